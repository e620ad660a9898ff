package compare

import "math"

// The few distributions the tests need, written out so that the collector does not depend on a
// numerical library for them.

// normalSF is P(Z > z) for a standard normal Z.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// twoSided is the two-sided p-value of a standard normal statistic z.
func twoSided(z float64) float64 { return min(1, 2*normalSF(math.Abs(z))) }

// kolmogorovSF is P(K > x) for Kolmogorov's distribution (the limit of sqrt(n)·D under the null).
func kolmogorovSF(x float64) float64 {
	if x < 0.27 {
		return 1 // the series below needs many terms there, and the answer is 1 to 1e-9
	}
	s := 0.0
	for k := 1; k <= 100; k++ {
		t := math.Exp(-2 * float64(k*k) * x * x)
		if k%2 == 1 {
			s += t
		} else {
			s -= t
		}
		if t < 1e-16 {
			break
		}
	}
	return min(1, max(0, 2*s))
}

// binomialSF is P(X ≥ r) for X ~ Binomial(n, p): the regularized incomplete beta I_p(r, n−r+1).
func binomialSF(r, n int64, p float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return betaInc(float64(r), float64(n-r+1), p)
}

// betaInc is the regularized incomplete beta function I_x(a, b), by its continued fraction (modified
// Lentz), on whichever side of the mean converges fast.
func betaInc(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction of the incomplete beta function.
func betaCF(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-13
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	// The fraction converges in O(sqrt(max(a, b))) terms near the mean; 100,000 covers samples of
	// billions.
	for m := 1.0; m <= 100_000; m++ {
		m2 := 2 * m
		h *= lentzStep(m*(b-m)*x/((qam+m2)*(a+m2)), &c, &d)
		del := lentzStep(-(a+m)*(qab+m)*x/((a+m2)*(qap+m2)), &c, &d)
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// lentzStep advances the modified Lentz evaluation of a continued fraction by the term aa, updating
// c and d, and returns the factor the fraction's value is multiplied by.
func lentzStep(aa float64, c, d *float64) float64 {
	const tiny = 1e-300
	*d = 1 + aa**d
	if math.Abs(*d) < tiny {
		*d = tiny
	}
	*c = 1 + aa/(*c)
	if math.Abs(*c) < tiny {
		*c = tiny
	}
	*d = 1 / *d
	return *d * *c
}

// logChoose is log(n choose k).
func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

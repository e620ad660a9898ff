// Package compare owns the statistics of comparing two populations of one service's transactions,
// endpoint by endpoint: did version 1.5.0 (or cluster es7, or today) make it faster, slower, or
// change nothing, by how much, and how sure is that. It works on the store's latency histograms (HDR,
// 2 significant digits), never on raw durations, so a comparison costs what reading two histograms
// per endpoint costs, whatever the traffic. The query API (collector/query) serves it as
// /api/v1/compare.
//
// # What is computed, per endpoint
//
// Counts, p50, p95 and p99 of each side, read from the histograms as the query API reads them (the
// highest value of the bucket holding rank max(1, round(p/100 × n))).
//
// The difference of each percentile (B − A) with a 95% interval: a percentile bootstrap computed
// exactly rather than by resampling (bootstrap.go says how). Why the bootstrap and not exact
// order-statistic intervals: those are exact for one percentile of one side, but a difference needs
// the two combined, and the only distribution-free combination (two 97.5% intervals, subtracted end
// to end) covers far more than 95% (over 99% in simulation), which hides real changes; the exact
// bootstrap of the difference covers 94–98% (TestIntervalCoverage), is deterministic, and costs
// microseconds. A side with fewer than 5 transactions beyond a percentile (p99 needs 500) has no
// interval there.
//
// A p-value that the two distributions differ, from three tests that each see a part of them, combined
// by a weighted Bonferroni (the smallest p / w, at most 1; the weights add up to 1, so the combination
// rejects at level α with probability at most α when nothing changed):
//
//   - the Mann–Whitney U test (w = 0.15), computed from the histograms with midranks for each bucket
//     (a bucket's transactions are ties) and the variance corrected for ties: a shift of the bulk;
//   - the tail test's count (0.05): whether A and B have the same share of the slowest 5% of both
//     together (a two-proportion test): a shift of the whole tail;
//   - the tail test's durations (0.8): among the slowest 5% of both together, are B's slower? A
//     permutation test conditional on that tail (tail.go): a change confined to the slowest few
//     percent, which leaves Mann–Whitney's ranks and the tail's count where they were.
//
// Why these weights: a shift of the bulk is seen with every transaction (a 5% slowdown of all of
// 10,000 has |z| about 4) and loses little to a small share of the level; a change of the slowest 3%
// is seen with 3% of them, and at 10,000 a side no test of it reaches |z| much above 3.5 (the p99 of
// 10,000 such transactions is known to about ±7%, B's stretched tail to ±9%), so it needs the level.
// The bootstrap tests of p50, p95 and p99 are reported with their intervals but not combined: they
// see less than the tests above (the p99's sees one order statistic where the tail test sees 1,000
// durations) and each would cost the others level. The Kolmogorov–Smirnov statistic and p-value are
// reported too (conservative with ties), not used. The p-values of a comparison's endpoints are
// adjusted together by Benjamini–Hochberg (q-values), so that among the endpoints a comparison calls
// changed, at most 5% are expected not to be.
//
// The error rates (failures / (successes + failures)) of each side, their difference with a 95%
// interval (Newcombe's hybrid score interval, which behaves at rates near 0), a two-proportion test
// (Fisher's exact test when a cell expects fewer than 5), and q-values across the endpoints.
//
// # Verdicts
//
// too_few: a side has fewer than Config.MinCount transactions (100 by default); no test is run.
//
// no_change: q ≥ 0.05, or the difference is significant but not practically meaningful.
//
// slower or faster: q < 0.05 and at least one percentile moved meaningfully: it changed by at least 5%
// of A's value and at least 100 µs (Config.MinRelativeChange and MinChangeMicros), and its interval
// excludes 0, or, when the tail test gave the endpoint its p-value, it is p95 or p99 and moved in the
// direction the tail test saw (the reason says "tail test": the tail's 500 durations establish what
// one percentile's interval cannot). 5% is five times the histograms' resolution and about what a
// team notices; 100 µs keeps a 40 µs health check that became 60 µs from being news. When some
// percentiles moved up and others down (p50 faster, p99 slower), the verdict is slower: a regression
// anywhere is what an on-call engineer needs to hear, and the reason says both.
//
// An error rate's verdict is more_errors or fewer_errors when q < 0.05 and the rate moved by at least
// 0.1 percentage points, else no_change, or too_few.
//
// # How well it works
//
// The tests simulate comparisons from a long-tailed distribution (5 ms plus a log-normal of median
// 30 ms and σ = 1) through the store's HDR histograms (2 significant digits: buckets under 1% wide,
// so a 20% change of p99 spans about 25 of them), with fixed seeds, and give each rate with its
// binomial interval: over 200 comparisons of 5 endpoints with no change (100 to 15,000 transactions a
// side), under 1% of endpoints are called faster or slower (at most 5% is required); a regression of
// p99 by 20% with 10,000 a side, among four unchanged endpoints, is found in every trial when every
// transaction is 20% slower and in about 82% when only the slowest 3% are (94% when it is the only
// endpoint compared; it was 48% and 69% with the bootstrap tests in the Mann–Whitney's place); the
// 95% intervals cover the true difference in 94–98% of trials. BENCHMARKS.md ("Compare") has the
// figures and the command.
package compare

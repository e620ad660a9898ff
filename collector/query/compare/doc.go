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
// A p-value that the two distributions differ: the Bonferroni combination (k times the smallest of k
// p-values, at most 1) of the Mann–Whitney U test and the bootstrap tests of p50, p95 and p99. The
// Mann–Whitney test, computed from the histograms with midranks for each bucket (a bucket's
// transactions are ties) and the variance corrected for ties, sees a shift of the bulk; it cannot see
// a change confined to the slowest few percent, which is what the percentile tests are for. The
// Kolmogorov–Smirnov statistic and p-value are reported too (conservative with ties), not used. The
// p-values of a comparison's endpoints are adjusted together by Benjamini–Hochberg (q-values), so
// that among the endpoints a comparison calls changed, at most 5% are expected not to be.
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
// slower or faster: q < 0.05 and at least one percentile moved meaningfully: its interval excludes
// 0 and it changed by at least 5% of A's value and at least 100 µs (Config.MinRelativeChange and
// MinChangeMicros). 5% is five times the histograms' resolution and about what a team notices; 100 µs
// keeps a 40 µs health check that became 60 µs from being news. When some percentiles moved up and
// others down (p50 faster, p99 slower), the verdict is slower: a regression anywhere is what an
// on-call engineer needs to hear, and the reason says both.
//
// An error rate's verdict is more_errors or fewer_errors when q < 0.05 and the rate moved by at least
// 0.1 percentage points, else no_change, or too_few.
//
// # How well it works
//
// The tests simulate comparisons from a long-tailed distribution (5 ms plus a log-normal of median
// 30 ms and σ = 1) through the store's HDR histograms, with fixed seeds: over 200 comparisons of 5
// endpoints with no change (100 to 15,000 transactions a side), 0.5% of endpoints are called
// faster or slower (at most 5% is required), and the unadjusted p-values reject at their level; a
// regression that makes every transaction 20% slower, with 10,000 a side, is found in every one of
// 200 trials; a change confined to the slowest 3% (p99 +20%, p50 and p95 unchanged) in about half,
// because the p99 of 10,000 such transactions is only known to about ±13%; the 95% intervals cover
// the true difference in 94–98% of trials. BENCHMARKS.md ("Compare") has the figures and the command.
package compare

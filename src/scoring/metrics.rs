//! The metrics, in f64, with scikit-learn's conventions (and Kaggle's where
//! they differ; each choice is noted). Pure functions over slices that the
//! scorer has already aligned by id: class labels are indices into the task's
//! class list, probabilities are row-major `n × k`.
//!
//! Each is O(n) or O(n log n) (the rank-based ones sort once) and allocates a
//! constant number of buffers, never one per row. An undefined case (one class
//! only for ROC AUC, a constant vector for Spearman, …) is a
//! [`MetricError`], never a NaN.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

/// Why a metric has no value on these inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MetricError(pub String);

type Result<T> = std::result::Result<T, MetricError>;

fn undefined(msg: impl Into<String>) -> MetricError {
    MetricError(msg.into())
}

fn check_len(a: usize, b: usize) -> Result<()> {
    if a == 0 {
        return Err(undefined("no rows to score"));
    }
    if a != b {
        return Err(undefined(format!("{a} labels but {b} predictions")));
    }
    Ok(())
}

/// The `k × k` confusion matrix (row = true class, column = predicted).
///
/// A large set is cut into one slice of rows per core, each counted apart
/// ([`count_pairs`]) and every count added.
fn confusion(y: &[u32], p: &[u32], k: usize) -> Vec<u64> {
    let slice = y.len().div_ceil(threads_for(y.len())).max(1);
    let jobs = y.chunks(slice).zip(p.chunks(slice)).map(|(y, p)| move || count_pairs(y, p, k));
    let mut m = vec![0u64; k * k];
    for counts in on_every_core(jobs.collect()) {
        for part in counts.chunks(k * k) {
            m.iter_mut().zip(part).for_each(|(cell, n)| *cell += n);
        }
    }
    m
}

/// The confusion matrices of one slice, counted in four matrices in turn
/// (one after the other in the result, to be added): rows that fall in
/// the same cell one after another (most rows, when the predictions are
/// good) then do not wait on each other's count.
fn count_pairs(y: &[u32], p: &[u32], k: usize) -> Vec<u64> {
    let cells = k * k;
    let mut m = vec![0u64; 4 * cells];
    let (y4, y_rest) = y.as_chunks::<4>();
    let (p4, p_rest) = p.as_chunks::<4>();
    for (t, q) in y4.iter().zip(p4) {
        for lane in 0..4 {
            m[lane * cells + t[lane] as usize * k + q[lane] as usize] += 1;
        }
    }
    for (&t, &q) in y_rest.iter().zip(p_rest) {
        m[t as usize * k + q as usize] += 1;
    }
    m
}

/// Per class: (true positives, false positives, false negatives).
fn per_class(m: &[u64], k: usize) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
    (0..k).map(move |c| {
        let tp = m[c * k + c];
        let row: u64 = m[c * k..(c + 1) * k].iter().sum();
        let col: u64 = (0..k).map(|r| m[r * k + c]).sum();
        (tp, col - tp, row - tp)
    })
}

/// Share of rows whose predicted class is the true one.
pub fn accuracy(y: &[u32], p: &[u32]) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let right = y.iter().zip(p).filter(|(a, b)| a == b).count();
    Ok(right as f64 / y.len() as f64)
}

/// Mean over classes of recall; classes with no true rows are left out
/// (scikit-learn's convention).
pub fn balanced_accuracy(y: &[u32], p: &[u32], k: usize) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let m = confusion(y, p, k);
    let (sum, n) = per_class(&m, k)
        .filter(|(tp, _, fn_)| tp + fn_ > 0)
        .fold((0.0, 0usize), |(s, n), (tp, _, fn_)| (s + tp as f64 / (tp + fn_) as f64, n + 1));
    Ok(sum / n as f64)
}

/// Unweighted mean of F1 over *all k classes of the task* (ours: scikit-learn
/// uses the labels seen in y ∪ ŷ); a class with TP+FP+FN = 0 scores 0.
pub fn macro_f1(y: &[u32], p: &[u32], k: usize) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let m = confusion(y, p, k);
    let sum: f64 = per_class(&m, k)
        .map(|(tp, fp, fn_)| if tp + fp + fn_ == 0 { 0.0 } else { 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64 })
        .sum();
    Ok(sum / k as f64)
}

/// Mean over classes of IoU = TP/(TP+FP+FN), from one confusion matrix over
/// the whole set; classes absent from both sides are left out.
pub fn mean_iou(y: &[u32], p: &[u32], k: usize) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let m = confusion(y, p, k);
    let (sum, n) = per_class(&m, k)
        .filter(|(tp, fp, fn_)| tp + fp + fn_ > 0)
        .fold((0.0, 0usize), |(s, n), (tp, fp, fn_)| (s + tp as f64 / (tp + fp + fn_) as f64, n + 1));
    Ok(sum / n as f64)
}

/// Binary ROC AUC by Mann-Whitney: the share of (positive, negative) pairs
/// in which the positive scores higher, a tie counting ½ — the same number
/// as scikit-learn's trapezoids. The two classes' scores are sorted apart
/// (radix sorts of keys that order as the scores do, by 24 or 36 of their bits
/// and then run by run, [`sort_keys`]: the cost is a few passes over the
/// scores, not n log n comparisons) and merged; the pair count is kept in whole numbers and
/// divided once at the end. `positive(i)` says whether row `i` is positive.
///
/// Scores handed over (`Cow::Owned`: a scorer's gathered rows, a file's
/// column read for this score alone, one class's column of many) become
/// the keys in their own memory; borrowed ones get a buffer of keys. Each
/// page of a fresh buffer is faulted in (a few µs on a virtual machine):
/// for 2e6 rows, 4,000 of them.
///
/// A large set is cut into one slice of rows per core. Each core sorts its
/// slice's two classes; pairs won add up over any split of the rows, so
/// each core then counts its negatives against every slice's positives,
/// on the same thread once every slice is sorted ([`Arrivals`]): no thread
/// is started between the two, which on a virtual machine could start late.
pub fn roc_auc_with(positive: impl Fn(usize) -> bool + Sync, scores: Cow<'_, [f64]>) -> Result<f64> {
    let n = scores.len();
    let slice = n.div_ceil(threads_for(n)).max(1);
    let (mut buffer, borrowed) = match scores {
        Cow::Owned(scores) => (scores, None),
        Cow::Borrowed(scores) => (vec![0.0; n], Some(scores)),
    };
    let positive = &positive;
    let keys = bytemuck::cast_slice_mut::<f64, u64>(&mut buffer);
    let slices = keys.len().div_ceil(slice);
    // Each slice's sorted classes, once sorted (`None`: a score not finite).
    let sorted: Vec<OnceLock<Option<Classes<'_>>>> = (0..slices).map(|_| OnceLock::new()).collect();
    let arrivals = Arrivals::default();
    let (sorted, arrivals) = (&sorted, &arrivals);
    let jobs = keys.chunks_mut(slice).enumerate().map(|(t, mut keys)| {
        move || {
            let arrival = arrivals.arrival();
            let first = t * slice;
            let positive = |i| positive(first + i);
            let positives = match borrowed {
                Some(scores) => split_classes(keys, |_, i| scores[first + i], positive),
                None => split_classes(keys, |keys, i| f64::from_bits(keys[i]), positive),
            };
            let mine = positives.map(|positives| {
                let (pos, neg) = std::mem::take(&mut keys).split_at_mut(positives);
                // One scratch for both sorts: the second reuses the pages the
                // first faulted in.
                let mut scratch = vec![0; pos.len().max(neg.len())];
                sort_keys(pos, &mut scratch);
                sort_keys(neg, &mut scratch);
                (&*pos, &*neg)
            });
            let _ = sorted[t].set(mine);
            drop(arrival);
            arrivals.wait_for(slices);
            let (_, neg) = mine?;
            let all: Option<Vec<Classes<'_>>> = sorted.iter().map(|s| s.get().copied().flatten()).collect();
            Some(all?.iter().map(|(pos, _)| twice_won(pos, neg)).sum::<u128>())
        }
    });
    let twice_won: u128 = on_every_core(jobs.collect())
        .into_iter()
        .sum::<Option<u128>>()
        .ok_or_else(|| undefined("scores must be finite numbers"))?;
    let positives: usize = sorted.iter().filter_map(|s| s.get().copied().flatten()).map(|(pos, _)| pos.len()).sum();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return Err(undefined("ROC AUC is undefined when only one class is present"));
    }
    Ok(twice_won as f64 / (2.0 * positives as f64 * negatives as f64))
}

/// A slice's keys sorted: its positives' and its negatives'.
type Classes<'k> = (&'k [u64], &'k [u64]);

/// Counts the jobs of [`on_every_core`] that reached a point, so that each
/// can wait there for the others without a lock: the wait is short (the
/// others are at most one job's work behind), and a thread that sleeps
/// on a lock may wake late on a virtual machine.
#[derive(Default)]
struct Arrivals(AtomicUsize);

/// One job's arrival: counted when dropped, also when its job panics, so
/// that no other waits for it for ever.
struct Arrival<'a>(&'a AtomicUsize);

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, AtomicOrdering::Release);
    }
}

impl Arrivals {
    fn arrival(&self) -> Arrival<'_> {
        Arrival(&self.0)
    }

    /// Returns once `all` jobs have arrived: it spins a while, then lets
    /// other threads run between looks.
    fn wait_for(&self, all: usize) {
        let mut looks = 0u32;
        while self.0.load(AtomicOrdering::Acquire) < all {
            if looks < SPINS {
                std::hint::spin_loop();
                looks += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// How many times [`Arrivals::wait_for`] looks before it yields between looks.
const SPINS: u32 = 1 << 16;

/// Writes each row's key ([`order_key`] of `score(keys, row)`, read before
/// the row's place is written) into `keys`, the positives' first: the number
/// of positives, or `None` if a score is not finite.
///
/// The key goes where the next positive would, and the key there (a
/// negative's, or the row's own place) moves to the row's place; only a
/// positive moves that bound on. The classes come in no order, and a branch
/// on them would be mispredicted about as often as they change.
#[inline(always)]
fn split_classes(
    keys: &mut [u64],
    score: impl Fn(&[u64], usize) -> f64,
    positive: impl Fn(usize) -> bool,
) -> Option<usize> {
    let (mut positives, mut finite) = (0, true);
    for i in 0..keys.len() {
        let s = score(keys, i);
        finite &= s.is_finite();
        keys[i] = keys[positives];
        keys[positives] = order_key(s);
        positives += usize::from(positive(i));
    }
    finite.then_some(positives)
}

/// Below this many rows ROC AUC and confusion matrices are computed on one
/// thread: below it, a second thread costs about what it saves.
const PARALLEL_ROWS: usize = 1 << 18;

/// How many threads a job over `n` rows is cut into: one below
/// [`PARALLEL_ROWS`], else one per core (at most eight).
fn threads_for(n: usize) -> usize {
    if n < PARALLEL_ROWS { 1 } else { super::records::threads() }
}

/// Runs each job on a thread of its own while this one waits (a single
/// job here); the results in order. A thread started while this one stays
/// busy tended to start on this one's core: with the first job run here,
/// a 2e6-row ROC AUC took 55.7 ms where it takes 52.7 (the quarter of 40
/// runs, 2 cores).
fn on_every_core<T: Send>(jobs: Vec<impl FnOnce() -> T + Send>) -> Vec<T> {
    if jobs.len() == 1 {
        return jobs.into_iter().map(|job| job()).collect();
    }
    std::thread::scope(|scope| {
        let all: Vec<_> = jobs.into_iter().map(|job| scope.spawn(job)).collect();
        all.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Sorts `keys`, through `scratch` (at least as long): first by the highest
/// 24 bits of each key's distance from the least (two radix passes,
/// [`radix_sort_by`]), or by 36 (three) when a sample of the keys finds
/// that 24 would leave many of them sharing their bits ([`few_share`]);
/// then the keys that share those bits are put in order by one insertion
/// pass over them all, a long run of them sorted whole ([`sort_runs`]).
/// Measuring from the least key and not from zero keeps the bits where the
/// keys differ: scores crowded just below 1 (a confident model's) still
/// rarely share them, where the keys' own high bits (the sign, the
/// exponent and the mantissa's first) would put thousands in one run.
/// Scores that span both signs (logits) or a few far from the rest leave
/// most of that distance empty, and take the third pass.
fn sort_keys(keys: &mut [u64], scratch: &mut [u64]) {
    if keys.len() <= SHORT_SORT || keys.len() > u32::MAX as usize {
        keys.sort_unstable();
        return;
    }
    let (least, greatest) = keys.iter().fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
    if least >= greatest {
        return;
    }
    let span = u64::BITS - (greatest - least).leading_zeros();
    let mut shift = span.saturating_sub(2 * DIGIT_BITS);
    let two_passes = shift == 0 || few_share(keys, |k| (k - least) >> shift);
    if !two_passes {
        shift = span.saturating_sub(3 * DIGIT_BITS);
    }
    let high = |k: u64| ((k - least) >> shift) as usize;
    if two_passes {
        radix_sort_by::<2>(keys, scratch, high);
    } else {
        radix_sort_by::<3>(keys, scratch, high);
    }
    if shift == 0 {
        return;
    }
    sort_runs(keys, high);
}

/// Sorts keys already in order of `high(key)`: each key moves back past
/// the greater keys before it, as in an insertion sort of them all, which
/// costs little where runs of keys that share `high` are short (the
/// commonest) and finds no run's bounds (a branch a key, mispredicted at
/// about every other bound). A key that would move back more than
/// [`FAR`] places is in a long run: that run is found and sorted whole, by
/// insertion up to [`LONG_RUN`] keys, by `radsort` past that.
///
/// A key moves back only past keys of its own run: those before the run
/// are smaller, having a smaller `high`. So before `i` every run is sorted
/// but the one `i` is in, and sorting that one whole sorts all up to its end.
fn sort_runs(keys: &mut [u64], high: impl Fn(u64) -> usize) {
    let mut i = 1;
    while i < keys.len() {
        let j = move_back(keys, i, FAR);
        let key = keys[j];
        if j == 0 || keys[j - 1] <= key {
            i += 1;
            continue;
        }
        let run = high(key);
        let start = keys[..j].iter().rposition(|&k| high(k) != run).map_or(0, |p| p + 1);
        let end = keys[i..].iter().position(|&k| high(k) != run).map_or(keys.len(), |p| i + p);
        // Not all one key: `key` was below the one before it.
        let keys = &mut keys[start..end];
        if keys.len() <= LONG_RUN {
            insertion_sort(keys);
        } else {
            radsort::sort(keys);
        }
        i = end;
    }
}

/// How far back [`sort_runs`] moves a key before it takes the key's run
/// for a long one.
const FAR: usize = 8;

/// Up to this many keys are sorted by the standard library's sort: below
/// it, clearing and summing the radix sort's buckets costs more than it saves.
const SHORT_SORT: usize = 1 << 10;

/// At most how many keys [`few_share`] looks at; it looks at one in 16 of
/// fewer keys, so that the sample costs little beside the sort.
const SAMPLE: usize = 1 << 10;

/// Whether few of `keys` share their `prefix` with a different key: in a
/// sample of m keys spread over the slice, sorted, how many neighbours
/// differ but share it. Neighbours in a sample of m of n keys fall within
/// one run of r keys about m²(r − 1)/n times; more than 2m²/n (runs of
/// three keys on average) is many. Equal keys do not count: a run of one
/// key needs no sorting.
fn few_share(keys: &[u64], prefix: impl Fn(u64) -> u64) -> bool {
    let m = (keys.len() / 16).clamp(1, SAMPLE);
    let mut sample: Vec<u64> = keys.iter().step_by(keys.len() / m).take(m).copied().collect();
    sample.sort_unstable();
    let shared = sample.windows(2).filter(|w| w[0] != w[1] && prefix(w[0]) == prefix(w[1])).count();
    shared * keys.len() <= 2 * m * m
}

/// The bits of a key that one radix pass sorts by: 4,096 buckets, whose
/// next free places (a cache line each: 256 KiB) stay in a core's
/// second-level cache. Two passes of 12 bits sort scores in [0, 1] about
/// as finely for the runs after as four passes of 8 bits on 32 bits, and
/// move each key half as often: on one core's 700,000 scores `radsort`
/// (8 bits a pass) took a quarter longer. 13 bits were no faster end to end.
const DIGIT_BITS: u32 = 12;

/// Sorts `keys` by `digits(key)` (below 2^(12 × PASSES)), stably, in
/// `PASSES` passes of [`DIGIT_BITS`] through `scratch`, from the lowest
/// digit up, back and forth between the two; every digit's buckets are
/// counted in one pass before. An odd number of passes leaves the keys in
/// `scratch`, and they are copied back.
fn radix_sort_by<const PASSES: usize>(keys: &mut [u64], scratch: &mut [u64], digits: impl Fn(u64) -> usize) {
    const BUCKETS: usize = 1 << DIGIT_BITS;
    let scratch = &mut scratch[..keys.len()];
    let digit = |k: u64, pass: usize| (digits(k) >> (pass as u32 * DIGIT_BITS)) & (BUCKETS - 1);
    let mut next = vec![[0u32; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, counts) in next.iter_mut().enumerate() {
            counts[digit(k, pass)] += 1;
        }
    }
    for (pass, next) in next.iter_mut().enumerate() {
        // Each bucket's count becomes its first place.
        next.iter_mut().fold(0, |place, count| place + std::mem::replace(count, place));
        let (from, to) = if pass % 2 == 0 { (&*keys, &mut *scratch) } else { (&*scratch, &mut *keys) };
        scatter(from, to, next, |k| digit(k, pass));
    }
    if PASSES % 2 == 1 {
        keys.copy_from_slice(scratch);
    }
}

/// Writes each key of `from` at its bucket's next place in `to`.
#[inline(always)]
fn scatter(from: &[u64], to: &mut [u64], next: &mut [u32], bucket: impl Fn(u64) -> usize) {
    for &k in from {
        let place = &mut next[bucket(k)];
        to[*place as usize] = k;
        *place += 1;
    }
}

/// A run of keys longer than this is radix-sorted, a shorter one sorted by
/// insertion.
const LONG_RUN: usize = 32;

fn insertion_sort(keys: &mut [u64]) {
    for i in 1..keys.len() {
        move_back(keys, i, i);
    }
}

/// Moves `keys[i]` back past the greater keys before it, at most `most`
/// places (an insertion sort's step): where it stops.
#[inline(always)]
fn move_back(keys: &mut [u64], i: usize, most: usize) -> usize {
    let key = keys[i];
    let mut j = i;
    while j > 0 && keys[j - 1] > key && i - j < most {
        keys[j] = keys[j - 1];
        j -= 1;
    }
    keys[j] = key;
    j
}

/// A finite score as a number that sorts (and ties) as it does: -0.0
/// ties with 0.0.
fn order_key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

/// Twice the number of (positive, negative) pairs the positives win, both
/// sorted: 2 per negative below, 1 per tie.
///
/// Each positive's place among the negatives is found eight negatives at a
/// time and then by halving within the eight, the steps chosen by
/// comparisons and not by branches: the classes interleave in no order,
/// and a branch a negative (as in a plain merge) would be mispredicted
/// about once a positive. Each place is found from the one before, a chain
/// of loads each waiting on the last: the positives are counted in two
/// halves side by side ([`Lane`]), two chains that the core runs at once.
/// Those above every negative are left out of the halves, so that the two
/// keep stepping together to their ends.
/// Past the negatives' last eight, or where eight negatives tie with a
/// positive, [`twice_won_from`] goes on a key at a time.
fn twice_won(pos: &[u64], neg: &[u64]) -> u128 {
    // The positives above every negative win over each, with no search.
    let Some(&greatest) = neg.last() else { return 0 };
    let (pos, above) = pos.split_at(pos.partition_point(|&v| v <= greatest));
    let above = 2 * above.len() as u128 * neg.len() as u128;
    let (low, high) = pos.split_at(pos.len() / 2);
    let high_below = high.first().map_or(0, |&v| neg.partition_point(|&n| n < v));
    let mut low = Lane { pos: low, i: 0, below: 0, twice_won: 0 };
    let mut high = Lane { pos: high, i: 0, below: high_below, twice_won: 0 };
    // Both step every round, until one cannot.
    while low.step(neg) & high.step(neg) {}
    above + low.finish(neg) + high.finish(neg)
}

/// Positives being counted against the negatives: the next one, how many
/// negatives are known to be below it, and the pairs counted so far.
struct Lane<'k> {
    pos: &'k [u64],
    i: usize,
    below: usize,
    twice_won: u128,
}

impl Lane<'_> {
    /// Counts the next positive's pairs if it can without going a key at a
    /// time; whether it did. `below` moves on to at most the first negative
    /// not below the positive either way.
    #[inline(always)]
    fn step(&mut self, neg: &[u64]) -> bool {
        let Some(&v) = self.pos.get(self.i) else { return false };
        loop {
            let Some(eight) = neg.get(self.below..self.below + 8) else { return false };
            if eight[7] < v {
                self.below += 8;
                continue;
            }
            self.below += first_not(eight, |n| n < v);
            break;
        }
        let Some(eight) = neg.get(self.below..self.below + 8) else { return false };
        if eight[7] == v {
            return false;
        }
        self.twice_won += (2 * self.below + first_not(eight, |n| n == v)) as u128;
        self.i += 1;
        true
    }

    /// The lane's pairs, the rest counted alone.
    fn finish(mut self, neg: &[u64]) -> u128 {
        while self.step(neg) {}
        self.twice_won + twice_won_from(&self.pos[self.i..], neg, self.below)
    }
}

/// How many of `eight` keys hold `before` (true for a first few, false for
/// the rest, and false for the last), found by halving without a branch.
#[inline(always)]
fn first_not(eight: &[u64], before: impl Fn(u64) -> bool) -> usize {
    let mut k = usize::from(before(eight[3])) * 4;
    k += usize::from(before(eight[k + 1])) * 2;
    k + usize::from(before(eight[k]))
}

/// [`twice_won`] a key at a time, the first `below` negatives known to be
/// below every positive in `pos`.
fn twice_won_from(pos: &[u64], neg: &[u64], mut below: usize) -> u128 {
    let mut twice_won = 0u128;
    let mut i = 0;
    while i < pos.len() {
        let v = pos[i];
        let mut j = i + 1;
        while j < pos.len() && pos[j] == v {
            j += 1;
        }
        while below < neg.len() && neg[below] < v {
            below += 1;
        }
        let mut equal = below;
        while equal < neg.len() && neg[equal] == v {
            equal += 1;
        }
        twice_won += (j - i) as u128 * (2 * below + (equal - below)) as u128;
        i = j;
    }
    twice_won
}

/// Binary ROC AUC of `scores` for the rows whose class is `positive`
/// (owned scores are sorted in place, [`roc_auc_with`]).
pub fn roc_auc_of_class(y: &[u32], positive: u32, scores: Cow<'_, [f64]>) -> Result<f64> {
    check_len(y.len(), scores.len())?;
    roc_auc_with(|i| y[i] == positive, scores)
}

/// Binary ROC AUC of `scores` for the rows where `y` is true.
pub fn roc_auc(y: &[bool], scores: &[f64]) -> Result<f64> {
    check_len(y.len(), scores.len())?;
    roc_auc_with(|i| y[i], scores.into())
}

/// Multiclass ROC AUC: the unweighted mean over classes of one-vs-rest AUC,
/// from `n × k` scores. Classes with no true rows (or only true rows) in this
/// set are left out; if none is left the metric is undefined.
pub fn roc_auc_ovr(y: &[u32], probs: &[f64], k: usize) -> Result<f64> {
    check_len(y.len() * k, probs.len())?;
    let (mut sum, mut used) = (0.0, 0usize);
    for c in 0..k {
        // Handed over: the column becomes its keys.
        let column: Vec<f64> = probs.iter().skip(c).step_by(k).copied().collect();
        match roc_auc_with(|i| y[i] as usize == c, Cow::Owned(column)) {
            Ok(a) => {
                sum += a;
                used += 1;
            }
            Err(e) if e.0.contains("only one class") => {}
            Err(e) => return Err(e),
        }
    }
    if used == 0 {
        return Err(undefined("ROC AUC is undefined when only one class is present"));
    }
    Ok(sum / used as f64)
}

/// Smallest probability log loss uses.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Multiclass log loss −(1/N) Σ ln p(true class), from `n × k`
/// probabilities: each is clipped to [1e-15, 1 − 1e-15], then each row is
/// renormalised to sum to 1 (Kaggle's order).
pub fn log_loss(y: &[u32], probs: &[f64], k: usize) -> Result<f64> {
    check_len(y.len() * k, probs.len())?;
    let mut total = 0.0;
    for (i, &t) in y.iter().enumerate() {
        let row = &probs[i * k..(i + 1) * k];
        let clip = |p: f64| p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
        let sum: f64 = row.iter().map(|&p| clip(p)).sum();
        total -= (clip(row[t as usize]) / sum).ln();
    }
    Ok(total / y.len() as f64)
}

/// Binary log loss of P(positive) = `p`.
pub fn log_loss_binary(y: &[bool], p: &[f64]) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&t, &q)| {
            let q = q.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            -(if t { q } else { 1.0 - q }).ln()
        })
        .sum();
    Ok(total / y.len() as f64)
}

fn finite(y: &[f64], p: &[f64]) -> Result<()> {
    check_len(y.len(), p.len())?;
    if y.iter().chain(p).any(|v| !v.is_finite()) {
        return Err(undefined("values must be finite numbers (no NaN or infinity)"));
    }
    Ok(())
}

/// `sum`, a sum over `y` and `p` that is NaN or infinite when any value
/// is; only then are the values checked one by one (a sum may also
/// overflow to infinity from finite values, which stands). One pass over
/// the values, not two.
fn finite_sum(y: &[f64], p: &[f64], sum: f64) -> Result<f64> {
    if !sum.is_finite() {
        finite(y, p)?;
    }
    Ok(sum)
}

/// Root mean squared error.
pub fn rmse(y: &[f64], p: &[f64]) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let sse = finite_sum(y, p, y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum())?;
    Ok((sse / y.len() as f64).sqrt())
}

/// Mean absolute error.
pub fn mae(y: &[f64], p: &[f64]) -> Result<f64> {
    check_len(y.len(), p.len())?;
    Ok(finite_sum(y, p, y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum())? / y.len() as f64)
}

/// Coefficient of determination 1 − SS_res/SS_tot; undefined for constant y.
pub fn r2(y: &[f64], p: &[f64]) -> Result<f64> {
    check_len(y.len(), p.len())?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_tot = finite_sum(y, p, y.iter().map(|a| (a - mean) * (a - mean)).sum())?;
    let ss_res = finite_sum(y, p, y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum())?;
    if ss_tot == 0.0 {
        return Err(undefined("R² is undefined when every true value is the same"));
    }
    Ok(1.0 - ss_res / ss_tot)
}

/// Mid-ranks (1-based, ties averaged) of `v` into `ranks`.
fn mid_ranks(v: &[f64], order: &mut Vec<u32>, ranks: &mut Vec<f64>) {
    order.clear();
    order.extend(0..v.len() as u32);
    order.sort_unstable_by(|&a, &b| v[a as usize].total_cmp(&v[b as usize]));
    ranks.clear();
    ranks.resize(v.len(), 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && v[order[j] as usize] == v[order[i] as usize] {
            j += 1;
        }
        let avg = (i + 1 + j) as f64 / 2.0;
        for &o in &order[i..j] {
            ranks[o as usize] = avg;
        }
        i = j;
    }
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Spearman's rank correlation: Pearson correlation of mid-ranks; undefined
/// when either side is constant.
pub fn spearman(y: &[f64], p: &[f64]) -> Result<f64> {
    finite(y, p)?;
    let mut order = Vec::with_capacity(y.len());
    let (mut ry, mut rp) = (Vec::new(), Vec::new());
    mid_ranks(y, &mut order, &mut ry);
    mid_ranks(p, &mut order, &mut rp);
    pearson(&ry, &rp).ok_or_else(|| undefined("Spearman correlation is undefined for a constant vector"))
}

/// Mean average precision at K. AP@K = Σ_{i≤K} P(i)·rel(i) / min(m, K) with a
/// prediction repeated earlier in the list credited once; a query with no
/// relevant items scores 0 (Kaggle's convention).
pub fn map_at_k<T: PartialEq>(actual: &[Vec<T>], predicted: &[Vec<T>], k: usize) -> Result<f64> {
    check_len(actual.len(), predicted.len())?;
    if k == 0 {
        return Err(undefined("K must be at least 1"));
    }
    let total: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(rel, pred)| {
            if rel.is_empty() {
                return 0.0;
            }
            let (mut hits, mut score) = (0usize, 0.0);
            for (i, item) in pred.iter().take(k).enumerate() {
                if rel.contains(item) && !pred[..i].contains(item) {
                    hits += 1;
                    score += hits as f64 / (i + 1) as f64;
                }
            }
            score / rel.len().min(k) as f64
        })
        .sum();
    Ok(total / actual.len() as f64)
}

/// Orders two scores so that the better comes first.
pub fn better_first(a: f64, b: f64, higher_is_better: bool) -> Ordering {
    if higher_is_better { b.total_cmp(&a) } else { a.total_cmp(&b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    const Y: [u32; 8] = [0, 1, 2, 2, 1, 0, 2, 1];
    const P: [u32; 8] = [0, 2, 2, 2, 1, 0, 1, 0];

    /// ROC AUC of borrowed scores and of the same scores handed over (sorted
    /// in their own memory): the two must give the same number, or the
    /// same refusal.
    fn roc_auc_both_ways(y: &[bool], s: &[f64]) -> Result<f64> {
        let borrowed = roc_auc(y, s);
        assert_eq!(roc_auc_with(|i| y[i], Cow::Owned(s.to_vec())), borrowed, "handed over");
        borrowed
    }

    #[test]
    fn keys_sort_as_the_standard_sort_sorts_them_also_when_all_alike() {
        let mut state = 3u64;
        let mut random = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            state ^ (state >> 29)
        };
        for n in [0, 1, 2, 3, 100, SHORT_SORT, SHORT_SORT + 1, 5_000, 70_001] {
            // Runs of `r` keys, each run's keys descending: found one key
            // at a time (`FAR`), or as a long run by insertion or radix.
            let reversed_runs = |r: usize| move |_, i: usize| (i / r) as u64 * (1 << 32) + (r - i % r) as u64;
            let cases: [Box<dyn Fn(u64, usize) -> u64>; 15] = [
                Box::new(|r, _| r),                               // high halves all different
                Box::new(|r, _| r & 0xffff_ffff),                 // one high half: radix-sorted whole
                Box::new(|r, _| (r & 0x7_0000_0000) | (r >> 40)), // runs of many keys
                Box::new(|_, i| u64::MAX - i as u64),             // descending, one run
                Box::new(reversed_runs(FAR)),
                Box::new(reversed_runs(FAR + 1)),
                Box::new(reversed_runs(16)),
                Box::new(reversed_runs(LONG_RUN + 8)),
                Box::new(|r, _| order_key(f64::from(r as u32) / 4e9)), // scores in [0, 1)
                Box::new(|r, _| order_key(1.0 - f64::from(r as u32) / 4e15)), // crowded just below 1
                Box::new(|r, _| (r % 4) << 60 | (r >> 40)),            // four long runs, each radix-sorted
                Box::new(|r, _| (r % 3) << 62),                        // three values, many of each
                Box::new(|r, _| r & 0xff_ffff),                        // within 24 bits: the radix sort alone
                Box::new(|r, _| {
                    let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                    order_key((u / (1.0 - u)).ln()) // logits, of both signs: three passes
                }),
                Box::new(|r, i| if i % 1_000 == 0 { r >> 4 } else { 1 << 63 | r >> 24 }), // a few far from the rest: three passes
            ];
            for (c, key) in cases.iter().enumerate() {
                let mut keys: Vec<u64> = (0..n).map(|i| key(random(), i)).collect();
                let mut want = keys.clone();
                want.sort_unstable();
                sort_keys(&mut keys, &mut vec![0; n]);
                assert!(keys == want, "case {c}, {n} keys");
            }
        }
    }

    #[test]
    fn pairs_won_are_the_pairs_counted_one_by_one() {
        let mut state = 11u64;
        let mut random = move |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        // Few distinct values (ties, and runs of eight or more equal
        // negatives) and many; lists shorter and longer than eight.
        for values in [2, 5, 40, 1 << 30] {
            for round in 0..300 {
                let most = if round % 10 == 0 { 2_000 } else { 60 };
                let mut pos: Vec<u64> = (0..random(most)).map(|_| random(values)).collect();
                let mut neg: Vec<u64> = (0..random(most)).map(|_| random(values)).collect();
                pos.sort_unstable();
                neg.sort_unstable();
                let pairs: u128 =
                    pos.iter().flat_map(|p| neg.iter().map(move |n| u128::from(p > n) * 2 + u128::from(p == n))).sum();
                assert_eq!(twice_won(&pos, &neg), pairs, "{pos:?} against {neg:?}");
            }
        }
    }

    // Expected values from scikit-learn 1.9.1 on the same vectors.
    #[test]
    fn classification_metrics_match_scikit_learn() {
        close(accuracy(&Y, &P).unwrap(), 0.625);
        close(balanced_accuracy(&Y, &P, 3).unwrap(), 2.0 / 3.0);
        close(macro_f1(&Y, &P, 3).unwrap(), 0.6222222222222222);
        // The label set is the task's: a fourth class nobody predicted counts as 0.
        close(macro_f1(&Y, &P, 4).unwrap(), 0.4666666666666667);
        // A predicted class with no true rows is left out of balanced accuracy.
        close(balanced_accuracy(&[0, 0, 1, 1], &[0, 1, 1, 2], 3).unwrap(), 0.5);
    }

    #[test]
    fn a_confusion_matrix_counted_in_slices_and_lanes_counts_every_row_once() {
        // Lengths around the lane width, and over the parallel threshold
        // with a remainder of lanes; long runs of one cell, then noise.
        let mut state = 5u64;
        for n in [1, 3, 4, 5, 9, 1_000, PARALLEL_ROWS + 7] {
            let (k, mut want) = (5, vec![0u64; 25]);
            let (y, p): (Vec<u32>, Vec<u32>) = (0..n)
                .map(|i| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let (t, q) =
                        if i % 1000 < 600 { (2, 2) } else { ((state >> 40) as u32 % 5, (state >> 50) as u32 % 5) };
                    want[t as usize * k + q as usize] += 1;
                    (t, q)
                })
                .unzip();
            assert_eq!(confusion(&y, &p, k), want, "{n} rows");
        }
    }

    #[test]
    fn mean_iou_follows_the_ignite_example() {
        // y=[0,1,0,1,2], ŷ=[1,1,0,1,1] → IoU [0.5, 0.5, 0] → mean 1/3.
        close(mean_iou(&[0, 1, 0, 1, 2], &[1, 1, 0, 1, 1], 3).unwrap(), 1.0 / 3.0);
        // A class absent from both sides is excluded.
        close(mean_iou(&[0, 1, 0, 1, 2], &[1, 1, 0, 1, 1], 4).unwrap(), 1.0 / 3.0);
    }

    #[test]
    fn roc_auc_matches_the_reference_values_with_ties_counting_half() {
        close(roc_auc_both_ways(&[true, false, true, true], &[0.32, 0.52, 0.26, 0.86]).unwrap(), 1.0 / 3.0);
        close(roc_auc_both_ways(&[true, false, true, false, true], &[0.9, 0.1, 0.8, 0.1, 0.7]).unwrap(), 1.0);
        close(roc_auc_both_ways(&[false, true, true, false], &[0.2, 0.1, 0.3, 0.4]).unwrap(), 0.25);
        close(roc_auc_both_ways(&[true, true, false, false], &[0.5; 4]).unwrap(), 0.5);
        // scikit-learn: roc_auc_score([0,0,1,1,1,0],[.1,.5,.5,.9,.5,.2]) = 0.888…
        let y = [false, false, true, true, true, false];
        close(roc_auc_both_ways(&y, &[0.1, 0.5, 0.5, 0.9, 0.5, 0.2]).unwrap(), 0.888888888888889);
        let err = roc_auc_both_ways(&[true, true], &[0.1, 0.2]).unwrap_err();
        assert!(err.0.contains("only one class"));
        assert!(roc_auc_both_ways(&[true, false], &[f64::NAN, 0.2]).is_err());
    }

    #[test]
    fn roc_auc_counts_every_pair_with_ties_and_signed_zeros() {
        // Nine score levels (many ties), zero written as both 0.0 and -0.0.
        let mut state = 7u64;
        let rows: Vec<(bool, f64)> = (0..400)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let level = ((state >> 33) % 9) as f64 - 4.0;
                let score = if level == 0.0 && (state >> 20) & 1 == 1 { -0.0 } else { level / 4.0 };
                ((state >> 40).is_multiple_of(3), score)
            })
            .collect();
        let (y, s): (Vec<bool>, Vec<f64>) = rows.iter().copied().unzip();
        let (mut won, mut pairs) = (0.0, 0.0);
        for &(_, sp) in rows.iter().filter(|r| r.0) {
            for &(_, sn) in rows.iter().filter(|r| !r.0) {
                won += if sp > sn {
                    1.0
                } else if sp == sn {
                    0.5
                } else {
                    0.0
                };
                pairs += 1.0;
            }
        }
        close(roc_auc_both_ways(&y, &s).unwrap(), won / pairs);
    }

    #[test]
    fn a_large_roc_auc_sorted_in_slices_counts_every_pair() {
        // Over the parallel threshold; 1,000 score levels, so every slice
        // ties with the others. The pairs are counted by level instead.
        let n = PARALLEL_ROWS + 12_345;
        let mut state = 11u64;
        let (mut pos_at, mut neg_at) = (vec![0u64; 1000], vec![0u64; 1000]);
        let (y, s): (Vec<bool>, Vec<f64>) = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let level = ((state >> 33) % 1000) as usize;
                let positive = (state >> 20).is_multiple_of(4);
                let counts = if positive { &mut pos_at } else { &mut neg_at };
                counts[level] += 1;
                (positive, level as f64 / 7.0 - 60.0)
            })
            .unzip();
        let (mut twice, mut below) = (0u128, 0u64);
        for (p, q) in pos_at.iter().zip(&neg_at) {
            twice += u128::from(*p) * u128::from(2 * below + q);
            below += q;
        }
        let (p, q) = (pos_at.iter().sum::<u64>() as f64, neg_at.iter().sum::<u64>() as f64);
        assert_eq!(roc_auc_both_ways(&y, &s).unwrap(), twice as f64 / (2.0 * p * q));
        // A score that is not finite, in the last slice's last row, or in
        // the first's first; one class only.
        let mut s = s;
        s[n - 1] = f64::INFINITY;
        assert!(roc_auc_both_ways(&y, &s).is_err());
        s[n - 1] = 0.5;
        s[0] = f64::NAN;
        assert_eq!(roc_auc_both_ways(&y, &s).unwrap_err().0, "scores must be finite numbers");
        s[0] = 0.5;
        let all_positive = vec![true; n];
        assert!(roc_auc_both_ways(&all_positive, &s).unwrap_err().0.contains("only one class"));
    }

    #[test]
    fn a_job_that_panics_before_it_arrives_keeps_no_other_waiting() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let arrivals = Arrivals::default();
            let jobs: Vec<Box<dyn FnOnce() -> u32 + Send + '_>> = vec![
                Box::new(|| {
                    let _arrival = arrivals.arrival();
                    panic!("a job fails before it arrives")
                }),
                Box::new(|| {
                    drop(arrivals.arrival());
                    arrivals.wait_for(2);
                    7
                }),
            ];
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_every_core(jobs)));
            tx.send(ran.is_err()).unwrap();
        });
        let panicked = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the other job waited for ever");
        assert!(panicked, "the panic reaches the caller");
    }

    #[test]
    fn a_confident_models_scores_crowded_at_zero_and_one_count_every_pair() {
        // Over the parallel threshold. Of every 16 scores, about 6 within
        // a few thousand ulps below 1 (runs of keys that share their high
        // bits, with ties), 7 tiny (under 3e-297), one exactly 0, one
        // exactly 1 and one anywhere in [0, 1).
        let n = PARALLEL_ROWS + 4_321;
        let mut state = 17u64;
        let (y, s): (Vec<bool>, Vec<f64>) = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let (positive, ulps, kind) = ((state >> 20).is_multiple_of(3), (state >> 40) % 3000, state >> 60);
                let score = match kind {
                    0 => 0.0,
                    1 => 1.0,
                    2 => (state >> 11) as f64 / (1u64 << 53) as f64,
                    3..=8 => 1.0 - ulps as f64 * f64::EPSILON / 2.0,
                    _ => ulps as f64 * 1e-300,
                };
                (positive, score)
            })
            .unzip();
        // Counted apart: all rows sorted by score, each group of equal
        // scores winning over the negatives below it and tying with its own.
        let mut rows: Vec<(f64, bool)> = s.iter().copied().zip(y.iter().copied()).collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut twice, mut below, mut i) = (0u128, 0u128, 0);
        while i < rows.len() {
            let j = i + rows[i..].iter().take_while(|r| r.0 == rows[i].0).count();
            let (pos, neg) =
                rows[i..j].iter().fold((0u128, 0u128), |(p, q), r| (p + u128::from(r.1), q + u128::from(!r.1)));
            twice += pos * (2 * below + neg);
            below += neg;
            i = j;
        }
        let p = y.iter().filter(|&&b| b).count() as f64;
        assert_eq!(roc_auc_both_ways(&y, &s).unwrap(), twice as f64 / (2.0 * p * (n as f64 - p)));
    }

    #[test]
    fn one_vs_rest_auc_matches_scikit_learn() {
        let p = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.25, 0.5, 0.25, 0.6, 0.1, 0.3];
        close(roc_auc_ovr(&[0, 1, 2, 2, 0], &p, 3).unwrap(), 0.9444444444444445);
    }

    #[test]
    fn log_loss_clips_then_renormalises() {
        // The benhamner/Metrics reference value (Kaggle's binary example).
        let y = [true, true, true, false, false, false];
        close(log_loss_binary(&y, &[0.5, 0.1, 0.01, 0.9, 0.75, 0.001]).unwrap(), 1.881797068998267);
        // Multiclass, checked with numpy: clip to [1e-15, 1-1e-15], renormalise, mean −ln p.
        let p = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.25, 0.5, 0.25, 0.6, 0.1, 0.3];
        close(log_loss(&[0, 1, 2, 2, 0], &p, 3).unwrap(), 0.6786458424025955);
        // A zero probability on the true class is clipped, not infinite.
        let v = log_loss(&[1, 2], &[1.0, 0.0, 0.0, 0.0, 0.5, 0.5], 3).unwrap();
        assert!((v - 17.615961787735316).abs() < 1e-9, "{v}");
        // Binary as two columns equals the one-column form.
        let two: Vec<f64> = [0.5, 0.1, 0.01, 0.9, 0.75, 0.001].iter().flat_map(|&q| [1.0 - q, q]).collect();
        close(log_loss(&[1, 1, 1, 0, 0, 0], &two, 2).unwrap(), 1.881797068998267);
    }

    #[test]
    fn regression_metrics_match_scikit_learn() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        close(rmse(&y, &p).unwrap(), 0.6123724356957945);
        close(mae(&y, &p).unwrap(), 0.5);
        close(r2(&y, &p).unwrap(), 0.9486081370449679);
        close(mae(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 5.0]).unwrap(), 0.25);
        assert!(r2(&[1.0, 1.0], &[1.0, 2.0]).unwrap_err().0.contains("same"));
        assert!(rmse(&[1.0], &[f64::INFINITY]).is_err());
        // Any value not finite is refused, by every regression metric, even
        // where a constant truth would be refused too; a sum overflowing
        // from finite values stands.
        let finite = "must be finite";
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for (y, p) in [([1.0, bad], [1.0, 2.0]), ([1.0, 2.0], [bad, 2.0]), ([bad, bad], [bad, bad])] {
                for metric in [rmse, mae, r2] {
                    assert!(metric(&y, &p).unwrap_err().0.contains(finite), "{y:?} {p:?}");
                }
            }
            assert!(r2(&[1.0, 1.0], &[1.0, bad]).unwrap_err().0.contains(finite));
        }
        assert_eq!(rmse(&[f64::MAX, 0.0], &[-f64::MAX, 0.0]).unwrap(), f64::INFINITY);
        assert_eq!(mae(&[f64::MAX, f64::MAX], &[-f64::MAX, -f64::MAX]).unwrap(), f64::INFINITY);
        assert!(rmse(&[], &[]).unwrap_err().0.contains("no rows"));
    }

    #[test]
    fn spearman_uses_mid_ranks() {
        // scipy.stats.spearmanr([1,2,2,3,4],[2,1,3,3,5]) = 0.763157894736842
        close(spearman(&[1.0, 2.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 3.0, 3.0, 5.0]).unwrap(), 0.7631578947368421);
        close(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap(), 1.0);
        assert!(spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).unwrap_err().0.contains("constant"));
    }

    #[test]
    fn map_at_k_follows_kaggle() {
        let m3 = vec![vec![1, 2, 3]];
        // Hits at #1 and #3 with m = 3 → (1 + 2/3)/3.
        close(map_at_k(&m3, &[vec![1, 9, 2]], 3).unwrap(), (1.0 + 2.0 / 3.0) / 3.0);
        // Hits at #1 and #2, m = 3 → 2/3.
        close(map_at_k(&m3, &[vec![1, 2, 9]], 3).unwrap(), 2.0 / 3.0);
        // Hits at #1 and #3 with m = 2 → (1 + 2/3)/2.
        close(map_at_k(&[vec![1, 2]], &[vec![1, 9, 2]], 3).unwrap(), (1.0 + 2.0 / 3.0) / 2.0);
        // A duplicate prediction is credited once.
        close(map_at_k(&[vec![1, 2]], &[vec![1, 1, 1]], 3).unwrap(), 0.5);
        // No relevant items → 0.
        close(map_at_k(&[Vec::<i32>::new()], &[vec![1]], 3).unwrap(), 0.0);
        // benhamner: mapk(10, [[1..5],[1..3]], [[1..10],[1,2]+[4..11]+[3]]) = 5/6 (its m=0 rule is not used here).
        let actual = vec![(1..=5).collect::<Vec<_>>(), (1..=3).collect()];
        let mut second = vec![1, 2];
        second.extend(4..=11);
        second.push(3);
        close(map_at_k(&actual, &[(1..=10).collect(), second], 10).unwrap(), 5.0 / 6.0);
    }

    #[test]
    fn better_first_respects_direction() {
        assert_eq!(better_first(0.9, 0.8, true), Ordering::Less);
        assert_eq!(better_first(0.9, 0.8, false), Ordering::Greater);
    }
}

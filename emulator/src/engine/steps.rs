//! Per-step timing, combined as the run goes so that its memory does not
//! grow with the run's length: every step's time joins the totals at once;
//! the steps themselves are kept up to `STEP_TIMES_CAP` (exact percentiles,
//! decision latencies), beyond it only their distribution (a histogram of
//! 1.1%-wide bins); the per-step series comes binned to at most `SERIES_CAP`
//! points from the start (the run's length is known), counts included.

use nerve_isa::arch::TimingSpec;
use nerve_isa::counters::Counts;

use super::Costs;

/// Most points of the per-step series (steps are binned to fit).
pub const SERIES_CAP: usize = 20_000;

/// Most steps whose times are kept one by one (32 bytes each).
pub const STEP_TIMES_CAP: u64 = 1 << 21;

/// Steps per point of the series of a run of `steps`.
pub fn series_bin(steps: u64) -> u64 {
    steps.div_ceil(SERIES_CAP as u64).max(1)
}

/// One step's timing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepTime {
    /// Slowest core, ns.
    pub core_ns: f64,
    /// Network: longest path latency + busiest link's serialisation, ns.
    pub net_ns: f64,
    pub barrier_ns: f64,
    /// core + network + barrier.
    pub step_ns: f64,
}

/// The per-step series, one point per `bin` steps: the slowest step, the
/// wall time and what happened (summed over cores).
#[derive(Clone, Debug, Default)]
pub struct StepSeries {
    pub bin: u64,
    pub max_step_ns: Vec<f64>,
    pub wall_ns: Vec<f64>,
    pub counts: Vec<Counts>,
}

/// A distribution's mean, median, 99th percentile and maximum.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quantiles {
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Values ≥ 0 in bins 1/64 of an octave wide (a value's bin and the bin's
/// middle differ by < 0.6%), from 2^-16 up; 0 and below in bin 0.
#[derive(Clone, Debug)]
struct Histogram {
    bins: Vec<u64>,
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

const PER_OCTAVE: f64 = 64.0;
const LOWEST: i32 = -16;
const OCTAVES: usize = 80;

impl Histogram {
    fn new() -> Histogram {
        Histogram { bins: vec![0; OCTAVES * PER_OCTAVE as usize + 1], n: 0, sum: 0.0, min: f64::INFINITY, max: 0.0 }
    }
    fn add(&mut self, x: f64) {
        let b = if x > 0.0 { (((x.log2() - LOWEST as f64) * PER_OCTAVE).floor() as i64 + 1).clamp(1, self.bins.len() as i64 - 1) as usize } else { 0 };
        self.bins[b] += 1;
        self.n += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }
    /// The value at rank ⌊(n − 1)·f⌉, as `Stats` ranks them: its bin's middle,
    /// within the values' range (steps all of one time gave a median below it).
    fn quantile(&self, f: f64) -> f64 {
        let rank = ((self.n - 1) as f64 * f).round() as u64;
        let mut seen = 0;
        for (b, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen > rank {
                return if b == 0 { 0.0 } else { ((b as f64 - 0.5) / PER_OCTAVE + LOWEST as f64).exp2().clamp(self.min, self.max) };
            }
        }
        self.max
    }
    fn quantiles(&self) -> Quantiles {
        if self.n == 0 {
            return Quantiles::default();
        }
        Quantiles { mean: self.sum / self.n as f64, p50: self.quantile(0.5), p99: self.quantile(0.99), max: self.max }
    }
}

/// Thread 0's accounting of the steps, in step order.
pub struct StepAcc {
    bin: u64,
    barrier_ns: f64,
    tick_ns: Option<f64>,
    timing: TimingSpec,
    /// Thread 0's steps whose slowest core is not known yet (the other
    /// threads' come with their later posts): (step, network ns, thread 0's
    /// slowest core), in step order.
    pub pending: std::collections::VecDeque<(u64, f64, f64)>,
    pub times: Vec<StepTime>,
    /// Beyond `STEP_TIMES_CAP` steps: the distributions instead (step, core, network).
    hist: Option<[Histogram; 3]>,
    pub emulated_ns: f64,
    pub wall_ns: f64,
    pub overruns: u64,
    pub max_step_ns: Vec<f64>,
    pub wall_bins: Vec<f64>,
}

impl StepAcc {
    pub fn new(steps: u64, costs: &Costs, timing: &TimingSpec) -> StepAcc {
        let bin = series_bin(steps);
        let points = steps.div_ceil(bin) as usize;
        let exact = steps <= STEP_TIMES_CAP;
        let mut times = Vec::with_capacity(if exact { steps as usize } else { 0 });
        let (mut max_step_ns, mut wall_bins) = (vec![0.0; points], vec![0.0; points]);
        crate::lines::map_now(&mut times);
        crate::lines::map_now(&mut max_step_ns);
        crate::lines::map_now(&mut wall_bins);
        StepAcc {
            bin,
            barrier_ns: costs.barrier_ns,
            tick_ns: costs.tick_ns,
            timing: timing.clone(),
            pending: std::collections::VecDeque::new(),
            times,
            hist: (!exact).then(|| [Histogram::new(), Histogram::new(), Histogram::new()]),
            emulated_ns: 0.0,
            wall_ns: 0.0,
            overruns: 0,
            max_step_ns,
            wall_bins,
        }
    }

    /// Step `step`'s slowest core and network time.
    pub fn account(&mut self, step: u64, core_ns: f64, net_ns: f64) {
        let step_ns = core_ns + net_ns + self.barrier_ns;
        self.emulated_ns += step_ns;
        let wall = self.timing.wall_ns(step_ns);
        self.wall_ns += wall;
        if self.tick_ns.is_some_and(|tk| step_ns > tk) {
            self.overruns += 1;
        }
        match &mut self.hist {
            None => self.times.push(StepTime { core_ns, net_ns, barrier_ns: self.barrier_ns, step_ns }),
            Some([s, c, n]) => {
                s.add(step_ns);
                c.add(core_ns);
                n.add(net_ns);
            }
        }
        let b = (step / self.bin) as usize;
        self.max_step_ns[b] = self.max_step_ns[b].max(step_ns);
        self.wall_bins[b] += wall;
    }

    /// The distributions (step, core, network) when the steps were not kept.
    pub fn approximate(&self) -> Option<[Quantiles; 3]> {
        self.hist.as_ref().map(|[s, c, n]| [s.quantiles(), c.quantiles(), n.quantiles()])
    }
}

/// Adds `x` into `slot`'s f64 maximum (values ≥ 0: their bits order as they do).
pub fn fetch_max(slot: &std::sync::atomic::AtomicU64, x: f64) {
    slot.fetch_max(x.max(0.0).to_bits(), std::sync::atomic::Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_within_their_bins() {
        let mut h = Histogram::new();
        let v: Vec<f64> = (0..10_000).map(|i| 1000.0 + (i as f64 * 7.3) % 5000.0).collect();
        for &x in &v {
            h.add(x);
        }
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let q = h.quantiles();
        for (got, f) in [(q.p50, 0.5), (q.p99, 0.99)] {
            let want = s[((s.len() - 1) as f64 * f).round() as usize];
            assert!((got - want).abs() <= want * 0.012, "{f}: {got} vs {want}");
        }
        assert_eq!(q.max, s[s.len() - 1]);
        assert!((q.mean - v.iter().sum::<f64>() / v.len() as f64).abs() < 1e-6);
    }

    /// Steps all of one time have it as every quantile: its bin's middle
    /// (37.85 for 38 ns) lay below the smallest value.
    #[test]
    fn histogram_quantiles_stay_within_the_values() {
        for x in [38.0, 1.0, 1e6 + 0.3, 3.3e-3] {
            let mut h = Histogram::new();
            for _ in 0..1000 {
                h.add(x);
            }
            let q = h.quantiles();
            assert_eq!((q.p50, q.p99, q.max), (x, x, x), "{x}");
        }
    }
}

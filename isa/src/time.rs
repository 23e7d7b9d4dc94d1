//! Times in ms to timesteps: the one rounding rule every reader of a time
//! uses (spike times, delays, refractory periods, `--input` spikes, the
//! exporters), so that compile, run and export put a time in one step.

/// The step a time of `t_ms` falls in at `dt_ms` per step: t/dt rounded to
/// the nearest integer, a half up. A quotient near a half-integer counts as
/// that half: 0.15 / 0.1 is 1.4999999999999998 in binary floating point,
/// which rounded down while 0.25 / 0.1 rounded up, though both are written
/// halves. "Near" is a relative 1e-9, but at most 1e-6 steps or, where the
/// quotient's own rounding is larger (past 10⁹ steps), 4 of its ulps: a
/// relative 1e-9 alone was ±0.25 steps at 2.5·10⁸, so 250000000.3 rounded up.
/// NaN stays NaN (callers refuse it).
pub fn steps_of(t_ms: f64, dt_ms: f64) -> f64 {
    let x = t_ms / dt_ms;
    let half = (x * 2.0).round() / 2.0;
    // t and dt are each within half an ulp of what was written, and so is the
    // division: |error| < 1.5 ulps of x, inside 4·ε·|x|.
    let tol = (1e-9 * half.abs()).min((4.0 * f64::EPSILON * half.abs()).max(1e-6));
    let x = if half.fract().abs() == 0.5 && (x - half).abs() <= tol { half } else { x };
    (x + 0.5).floor()
}

/// Whether a delay of `ms` is shorter than one step of `dt_ms` (NaN too):
/// by its value, not its rounded steps (0.05 ms at dt 0.1 rounded up to a
/// step and passed, while 0.04 was called shorter than one), with a relative
/// 1e-9 for a step written as a sum or product of others.
pub fn below_one_step(ms: f64, dt_ms: f64) -> bool {
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    let short = !(ms / dt_ms >= 1.0 - 1e-9);
    short
}

#[cfg(test)]
mod tests {
    use super::{below_one_step, steps_of};

    #[test]
    fn a_delay_below_one_step_by_its_value() {
        for (ms, dt, short) in [
            (0.05, 0.1, true),
            (0.0999999, 0.1, true),
            (0.1, 0.1, false),
            (0.30000000000000004, 0.1, false),
            (0.29999999999999993, 0.3, false),
            (0.3, 0.1 + 0.2, false),
            (f64::NAN, 0.1, true),
            (0.0, 1.0, true),
            (1.0, 1.0, false),
        ] {
            assert_eq!(below_one_step(ms, dt), short, "{ms} at {dt}");
        }
    }

    #[test]
    fn written_halves_round_up() {
        for (t, want) in [(0.15, 2.0), (0.25, 3.0), (0.35, 4.0), (0.45, 5.0), (1.15, 12.0), (2.05, 21.0), (0.05, 1.0), (1e6 + 0.05, 10_000_001.0)] {
            assert_eq!(steps_of(t, 0.1), want, "{t} ms");
        }
        // Away from halves, the nearest step, as before.
        for (t, dt, want) in [(0.1, 0.1, 1.0), (0.14, 0.1, 1.0), (0.16, 0.1, 2.0), (1.1, 0.1, 11.0), (0.3, 0.1, 3.0), (2.5, 1.0, 3.0), (0.0, 0.1, 0.0)] {
            assert_eq!(steps_of(t, dt), want, "{t} ms at {dt}");
        }
        // Just below a half by more than the tolerance stays below.
        assert_eq!(steps_of(1.4999, 1.0), 1.0);
        assert!(steps_of(f64::NAN, 0.1).is_nan());
        assert_eq!(steps_of(f64::INFINITY, 0.1), f64::INFINITY);
        assert_eq!(steps_of(5e9, 1.0), 5e9);
    }

    /// A relative tolerance alone was ±0.25 steps at 2.5·10⁸ steps: 250000000.3
    /// rounded up (a refractory period one step too long), 4294967295.4 past
    /// the u32 limit. Written halves that large still round up.
    #[test]
    fn large_times_round_to_the_nearest_step() {
        for (t, dt, want) in [
            (250_000_000.3, 1.0, 250_000_000.0),
            (300_000_000.3, 1.0, 300_000_000.0),
            (4_294_967_295.4, 1.0, 4_294_967_295.0),
            (250_000_000.499_99, 1.0, 250_000_000.0),
            (250_000_000.5, 1.0, 250_000_001.0),
            (25_000_000.05, 0.1, 250_000_001.0),
            (100_000_000.05, 0.1, 1_000_000_001.0),
            (429_496_729.45, 0.1, 4_294_967_295.0),
            (429_496_729.55, 0.1, 4_294_967_296.0),
            (1e6 + 0.05, 0.1, 10_000_001.0),
        ] {
            assert_eq!(steps_of(t, dt), want, "{t} ms at {dt}");
        }
    }
}

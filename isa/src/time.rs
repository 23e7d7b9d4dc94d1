//! Times in ms to timesteps: the one rounding rule every reader of a time
//! uses (spike times, delays, refractory periods, `--input` spikes, the
//! exporters), so that compile, run and export put a time in one step.

/// The step a time of `t_ms` falls in at `dt_ms` per step: t/dt rounded to
/// the nearest integer, a half up. A quotient within a relative 1e-9 of a
/// half-integer counts as that half: 0.15 / 0.1 is 1.4999999999999998 in
/// binary floating point, which rounded down while 0.25 / 0.1 rounded up,
/// though both are written halves. NaN stays NaN (callers refuse it).
pub fn steps_of(t_ms: f64, dt_ms: f64) -> f64 {
    let x = t_ms / dt_ms;
    let half = (x * 2.0).round() / 2.0;
    let x = if half.fract().abs() == 0.5 && (x - half).abs() <= 1e-9 * half.abs() { half } else { x };
    (x + 0.5).floor()
}

#[cfg(test)]
mod tests {
    use super::steps_of;

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
}

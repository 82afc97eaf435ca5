//! How a run ended, in words a competitor understands.

use std::fmt;

/// How a model run ended. Each variant has a one-line message a competitor
/// understands (see [`Verdict::message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The model produced valid predictions within its budget.
    Ok,
    /// The deterministic compute budget (fuel) ran out.
    OutOfFuel,
    /// The wall-clock safety net fired.
    Timeout,
    /// The model tried to use more memory than the task allows.
    MemoryLimit,
    /// The model recursed too deeply.
    StackOverflow,
    /// The model trapped (unreachable, division by zero, bad pointer, ...).
    Trap,
    /// The module does not follow the guest ABI.
    InvalidModule,
    /// The model's output had the wrong length or non-finite values.
    InvalidOutput,
    /// The evaluation process died running the model, twice (decided by
    /// the platform, never by a run: see the evaluation queue).
    Crashed,
}

impl Verdict {
    /// Every verdict, in a stable order.
    pub const ALL: [Verdict; 9] = [
        Verdict::Ok,
        Verdict::OutOfFuel,
        Verdict::Timeout,
        Verdict::MemoryLimit,
        Verdict::StackOverflow,
        Verdict::Trap,
        Verdict::InvalidModule,
        Verdict::InvalidOutput,
        Verdict::Crashed,
    ];

    /// The stable snake_case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::OutOfFuel => "out_of_fuel",
            Verdict::Timeout => "timeout",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::StackOverflow => "stack_overflow",
            Verdict::Trap => "trap",
            Verdict::InvalidModule => "invalid_module",
            Verdict::InvalidOutput => "invalid_output",
            Verdict::Crashed => "crashed",
        }
    }

    /// A one-line explanation for the competitor.
    pub fn message(self) -> &'static str {
        match self {
            Verdict::Ok => "the model ran and produced valid predictions",
            Verdict::OutOfFuel => "the model used up its compute budget (fuel) before finishing",
            Verdict::Timeout => "the model ran past the wall-clock limit",
            Verdict::MemoryLimit => "the model asked for more memory than the task allows",
            Verdict::StackOverflow => "the model's call stack grew too deep",
            Verdict::Trap => "the model trapped while running",
            Verdict::InvalidModule => "the module does not follow the gaic guest ABI",
            Verdict::InvalidOutput => "the model's output had the wrong shape or non-finite values",
            Verdict::Crashed => "the evaluation process died while running the model, on two attempts",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown verdict {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_round_trips_through_its_name() {
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>().unwrap(), v);
            assert!(!v.message().is_empty());
        }
        assert!("nope".parse::<Verdict>().is_err());
    }
}

//! The states a submission and an evaluation job go through, as types
//! instead of strings. Each maps to exactly the text stored in its column
//! (and shown in the API), so the schema and the wire format are unchanged;
//! a value outside the set is a decoding error, never a silent default.
//!
//! A run's verdict is a [`StoredVerdict`]: the sandbox's `Verdict`, stored
//! as its word and decoded strictly.
//!
//! Yes/no columns (`late`, `counted`) are [`Flag`]s: stored as 1/0, read
//! as `bool`, anything else a decoding error.
//!
//! Submission: `queued` → `running` → `scored` | `failed` |
//! `platform_error` (a CSV is `scored` or refused at upload; only models
//! queue). Job: `queued` → `running` → `done`, or `cancelled`; a job whose
//! lease expires or whose evaluator dies goes back to `queued`.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// An enum stored as one of a fixed set of words.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and wire) word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("{other:?} is not a {}", stringify!($name))),
                }
            }
        }

        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<'r, Any>>::decode(value)?;
                Ok(text.parse()?)
            }
        }

        impl<'q> Encode<'q, Any> for $name {
            fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
                <&'q str as Encode<'q, Any>>::encode(self.as_str(), buf)
            }
        }
    };
}

text_enum!(
    /// Where a submission stands.
    SubmissionStatus {
        /// A model waiting for a worker.
        Queued => "queued",
        /// A model being evaluated.
        Running => "running",
        /// Scored on both boards.
        Scored => "scored",
        /// Failed for a reason of its own (counted against the cap).
        Failed => "failed",
        /// Failed for the platform's reasons (refunded).
        PlatformError => "platform_error",
    }
);

impl SubmissionStatus {
    /// Not finished yet: queued or running.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

text_enum!(
    /// Where an evaluation job stands.
    JobState {
        /// Waiting to be leased.
        Queued => "queued",
        /// Leased by a worker.
        Running => "running",
        /// Finished (with a result, or given up).
        Done => "done",
        /// Cancelled by an organizer.
        Cancelled => "cancelled",
    }
);

/// The verdict column: the sandbox's [`gaic_sandbox::Verdict`], stored as
/// its word (`ok`, `trap`, …); an unknown word is a decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredVerdict(pub gaic_sandbox::Verdict);

impl StoredVerdict {
    /// The stored (and wire) word.
    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

impl Type<Any> for StoredVerdict {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for StoredVerdict {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Self(text.parse::<gaic_sandbox::Verdict>()?))
    }
}

/// A yes/no column stored as the integer 1 or 0 (the schema's convention,
/// portable to both databases), read and written as a `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl Flag {
    /// The flag's value.
    pub fn get(self) -> bool {
        self.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        match <i64 as Decode<'r, Any>>::decode(value)? {
            0 => Ok(Flag(false)),
            1 => Ok(Flag(true)),
            other => Err(format!("a flag column holds {other}, not 0 or 1").into()),
        }
    }
}

impl<'q> Encode<'q, Any> for Flag {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Any>>::encode(i64::from(self.0), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_word() {
        for s in SubmissionStatus::ALL {
            assert_eq!(s.as_str().parse::<SubmissionStatus>().unwrap(), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in JobState::ALL {
            assert_eq!(s.as_str().parse::<JobState>().unwrap(), *s);
        }
        assert!("scored ".parse::<SubmissionStatus>().is_err());
        assert!(SubmissionStatus::Running.is_pending() && !SubmissionStatus::Scored.is_pending());
    }
}

//! Rate limits and caps on what one client may start: sign-ups, login
//! attempts, token creation, uploads and live event streams.
//!
//! Each [`Class`] has a quota (`N` per period, GCRA through the `governor`
//! crate) counted per client address and, where the caller is known, per
//! account. A refused request gets 429 with the wait. An IPv6 client counts
//! by its /64, which one subscriber usually holds whole. The limiters live in
//! this process's memory and forget a key once its quota has refilled
//! ([`Limits::forget_idle`], every minute), so memory is bounded by the keys
//! active within one period; with N replicas a client gets up to N times the
//! quota. The failed-login throttle (`auth::LoginThrottle`), which must hold
//! across replicas, lives in the database instead.
//!
//! Live event streams are capped as they run: at most
//! `streams_per_viewer` at once per account (or per address for anonymous
//! viewers) and `streams` in total; a [`StreamPermit`] holds a place until
//! the stream ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;
use crate::msg;

/// What a quota limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Creating an account.
    Signup,
    /// Login attempts (sessions, tokens from a password, re-authentication).
    Login,
    /// Creating an API token.
    Token,
    /// Uploading a submission, a model or a task bundle.
    Upload,
    /// Opening a live event stream.
    Events,
}

impl Class {
    /// Every class, in a fixed order.
    pub const ALL: [Class; 5] = [Class::Signup, Class::Login, Class::Token, Class::Upload, Class::Events];

    /// The name used in settings and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Class::Signup => "signup",
            Class::Login => "login",
            Class::Token => "token",
            Class::Upload => "upload",
            Class::Events => "events",
        }
    }

    /// The default quota: a burst of `n`, refilled over `period`.
    fn default_rate(self) -> Rate {
        let (n, secs) = match self {
            Class::Signup => (30, 15 * 60),
            Class::Login => (30, 60),
            Class::Token => (20, 10 * 60),
            Class::Upload => (60, 60),
            Class::Events => (60, 60),
        };
        Rate::Every { n: NonZeroU32::new(n).expect("nonzero"), period: Duration::from_secs(secs) }
    }
}

/// A quota: `n` requests per `period` (a burst of `n`, refilling evenly), or
/// no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// `n` per `period`.
    Every {
        /// Requests allowed at once, and per period.
        n: NonZeroU32,
        /// The time in which the whole burst refills.
        period: Duration,
    },
    /// Not limited.
    Off,
}

impl Rate {
    fn quota(self) -> Option<Quota> {
        match self {
            Rate::Off => None,
            Rate::Every { n, period } => {
                let each = (period / n.get()).max(Duration::from_micros(1));
                Quota::with_period(each).map(|q| q.allow_burst(n))
            }
        }
    }
}

/// One `CLASS=N/PERIOD` (or `CLASS=off`) setting, e.g. `login=30/1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSetting {
    /// The class it sets.
    pub class: Class,
    /// Its quota.
    pub rate: Rate,
}

impl FromStr for RateSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, value) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected CLASS=N/PERIOD or CLASS=off"))?;
        let class = Class::ALL.into_iter().find(|c| c.name() == name.trim()).ok_or_else(|| {
            let names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
            format!("{name:?} is not a limit; the limits are {}", names.join(", "))
        })?;
        let value = value.trim();
        if value == "off" {
            return Ok(Self { class, rate: Rate::Off });
        }
        let (n, period) = value.split_once('/').ok_or_else(|| format!("{value:?}: expected N/PERIOD, e.g. 30/1m"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a whole number"))?;
        let n = NonZeroU32::new(n).ok_or("a limit of 0 refuses everything; use `off` to lift it")?;
        let period = parse_period(period.trim())?;
        Ok(Self { class, rate: Rate::Every { n, period } })
    }
}

/// `30s`, `1m`, `2h`, `1d` or a bare number of seconds.
fn parse_period(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{s:?}: expected a period such as 30s, 1m, 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: the unit is s, m, h or d")),
    };
    if secs == 0 {
        return Err(format!("{s:?}: the period must be longer than 0"));
    }
    Ok(Duration::from_secs(secs))
}

/// The limits' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Quotas differing from the defaults.
    pub rates: Vec<RateSetting>,
    /// Live event streams open at once, in total.
    pub streams: usize,
    /// Live event streams open at once per account or anonymous address.
    pub streams_per_viewer: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self { rates: Vec::new(), streams: 5_000, streams_per_viewer: 8 }
    }
}

/// Who is asking, as far as limits go: the client's network address, an
/// IPv6 one cut to its /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(IpAddr);

impl Client {
    /// The client at `addr`.
    pub fn new(addr: IpAddr) -> Self {
        match addr.to_canonical() {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Self(IpAddr::from(octets))
            }
            v4 => Self(v4),
        }
    }

    /// A client whose address is unknown (all such share one quota).
    pub fn unknown() -> Self {
        Self(IpAddr::from([0, 0, 0, 0]))
    }

    /// The address (an IPv6 one as its /64).
    pub fn addr(self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
            v4 => write!(f, "{v4}"),
        }
    }
}

/// The key a quota counts under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Addr(IpAddr),
    Account(i64),
}

/// Whose streams a stream counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// A signed-in account.
    Account(i64),
    /// An anonymous client.
    Anonymous(Client),
}

/// The rate limiters and the stream counts of this process.
pub struct Limits {
    limiters: HashMap<Class, DefaultKeyedRateLimiter<Key>>,
    streams: Arc<Mutex<Streams>>,
    max_streams: usize,
    max_per_viewer: usize,
}

#[derive(Debug, Default)]
struct Streams {
    total: usize,
    per_viewer: HashMap<Viewer, usize>,
}

impl Limits {
    /// Limits with `settings` over the defaults.
    pub fn new(settings: &LimitSettings) -> Self {
        let mut limiters = HashMap::new();
        for class in Class::ALL {
            let rate = settings.rates.iter().rev().find(|s| s.class == class).map_or(class.default_rate(), |s| s.rate);
            if let Some(quota) = rate.quota() {
                limiters.insert(class, DefaultKeyedRateLimiter::keyed(quota));
            }
        }
        Self {
            limiters,
            streams: Arc::default(),
            max_streams: settings.streams.max(1),
            max_per_viewer: settings.streams_per_viewer.max(1),
        }
    }

    fn check(&self, class: Class, key: Key) -> Result<(), AppError> {
        let Some(limiter) = self.limiters.get(&class) else { return Ok(()) };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let wait_s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            metrics::counter!("gaic_rate_limited_total", "class" => class.name()).increment(1);
            AppError::RateLimited {
                message: msg!("rate_limited", what = class.name(), wait = wait_s.max(1)),
                retry_after_s: wait_s.max(1),
            }
        })
    }

    /// Counts one `class` request from `client`; 429 when over its quota.
    pub fn client(&self, class: Class, client: Client) -> Result<(), AppError> {
        self.check(class, Key::Addr(client.addr()))
    }

    /// Counts one `class` request by the account `user_id`; 429 when over
    /// its quota.
    pub fn account(&self, class: Class, user_id: i64) -> Result<(), AppError> {
        self.check(class, Key::Account(user_id))
    }

    /// A place for one more live stream of `viewer`, held until the permit
    /// drops; 429 when the viewer or the server has no place left.
    pub fn stream(&self, viewer: Viewer) -> Result<StreamPermit, AppError> {
        let mut streams = self.streams.lock().expect("stream counts poisoned");
        let mine = streams.per_viewer.get(&viewer).copied().unwrap_or(0);
        if mine >= self.max_per_viewer {
            return Err(AppError::RateLimited {
                message: msg!("too_many_streams", max = self.max_per_viewer),
                retry_after_s: 5,
            });
        }
        if streams.total >= self.max_streams {
            metrics::counter!("gaic_rate_limited_total", "class" => "streams").increment(1);
            return Err(AppError::RateLimited { message: msg!("server_streams_full"), retry_after_s: 30 });
        }
        streams.total += 1;
        *streams.per_viewer.entry(viewer).or_default() += 1;
        metrics::gauge!("gaic_event_streams").set(streams.total as f64);
        Ok(StreamPermit { streams: self.streams.clone(), viewer })
    }

    /// Drops the keys whose quota has fully refilled (run every minute), so
    /// that memory holds only the recently active ones.
    pub fn forget_idle(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys the limiters hold (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.limiters.values().map(governor::RateLimiter::len).sum()
    }
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let classes: Vec<&str> = self.limiters.keys().map(|c| c.name()).collect();
        f.debug_struct("Limits")
            .field("limited", &classes)
            .field("max_streams", &self.max_streams)
            .field("max_per_viewer", &self.max_per_viewer)
            .finish_non_exhaustive()
    }
}

/// One open live stream's place; dropping it frees the place.
#[derive(Debug)]
pub struct StreamPermit {
    streams: Arc<Mutex<Streams>>,
    viewer: Viewer,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let Ok(mut streams) = self.streams.lock() else { return };
        streams.total = streams.total.saturating_sub(1);
        if let Some(n) = streams.per_viewer.get_mut(&self.viewer) {
            *n -= 1;
            if *n == 0 {
                streams.per_viewer.remove(&self.viewer);
            }
        }
        metrics::gauge!("gaic_event_streams").set(streams.total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(spec: &str) -> Limits {
        let rates = spec.split(',').map(|s| s.parse().unwrap()).collect();
        Limits::new(&LimitSettings { rates, streams: 3, streams_per_viewer: 2 })
    }

    #[test]
    fn settings_parse_and_name_their_mistakes() {
        let s: RateSetting = "login=5/1m".parse().unwrap();
        assert_eq!(s.class, Class::Login);
        assert_eq!(s.rate, Rate::Every { n: NonZeroU32::new(5).unwrap(), period: Duration::from_secs(60) });
        assert_eq!("upload=off".parse::<RateSetting>().unwrap().rate, Rate::Off);
        assert_eq!(
            "events=10/90".parse::<RateSetting>().unwrap().rate,
            Rate::Every { n: NonZeroU32::new(10).unwrap(), period: Duration::from_secs(90) }
        );
        assert!("logins=5/1m".parse::<RateSetting>().unwrap_err().contains("signup, login, token, upload, events"));
        assert!("login=0/1m".parse::<RateSetting>().unwrap_err().contains("off"));
        assert!("login=5/1w".parse::<RateSetting>().unwrap_err().contains("unit"));
        assert!("login=5".parse::<RateSetting>().unwrap_err().contains("N/PERIOD"));
    }

    #[test]
    fn a_quota_refuses_the_request_past_its_burst_per_key() {
        let l = limits("login=3/1h");
        let a = Client::new("10.0.0.1".parse().unwrap());
        let b = Client::new("10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            l.client(Class::Login, a).unwrap();
        }
        let err = l.client(Class::Login, a).unwrap_err();
        let AppError::RateLimited { retry_after_s, .. } = err else { panic!("{err:?}") };
        // One request refills every 20 minutes.
        assert!((1_100..=1_200).contains(&retry_after_s), "{retry_after_s}");
        l.client(Class::Login, b).unwrap();
        // Accounts count apart from addresses, and classes apart.
        l.account(Class::Login, 7).unwrap();
        l.client(Class::Upload, a).unwrap();
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let a = Client::new("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Client::new("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = Client::new("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        // An IPv4 address mapped into IPv6 is the IPv4 client.
        assert_eq!(Client::new("::ffff:10.0.0.1".parse().unwrap()), Client::new("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn off_lifts_a_limit() {
        let l = limits("signup=off");
        let a = Client::unknown();
        for _ in 0..1_000 {
            l.client(Class::Signup, a).unwrap();
        }
    }

    #[test]
    fn streams_are_capped_per_viewer_and_in_total_and_freed_on_drop() {
        let l = limits("events=off");
        let (x, y, z) = (Viewer::Account(1), Viewer::Account(2), Viewer::Anonymous(Client::unknown()));
        let x1 = l.stream(x).unwrap();
        let _x2 = l.stream(x).unwrap();
        assert!(matches!(l.stream(x), Err(AppError::RateLimited { .. })), "per viewer");
        let _y1 = l.stream(y).unwrap();
        assert!(matches!(l.stream(z), Err(AppError::RateLimited { .. })), "in total");
        drop(x1);
        let _z1 = l.stream(z).unwrap();
        assert!(l.stream(x).is_err());
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let l = limits("upload=1000/1s");
        for i in 0..100u8 {
            l.client(Class::Upload, Client::new(IpAddr::from([10, 0, 0, i]))).unwrap();
        }
        assert_eq!(l.keys(), 100);
        std::thread::sleep(Duration::from_millis(1_100));
        l.forget_idle();
        assert_eq!(l.keys(), 0);
    }
}

//! HTTP API stage throttling, as API Gateway applies it: a token bucket per
//! route of the stage, `throttlingBurstLimit` tokens deep and refilled at
//! `throttlingRateLimit` per second. A route's own `routeSettings` entry
//! overrides the stage's `defaultRouteSettings`, field by field. A request
//! that finds the bucket empty is answered `429 {"message":"Too Many
//! Requests"}` before the authorizer runs (API Gateway throttles before it
//! authorizes, so an unauthenticated flood drains the bucket too).
//!
//! A limit of 0 (burst or rate) blocks the route, as on AWS. A route with no
//! limit at either level is not throttled here: AWS would still apply the
//! account's regional limit (10,000 requests per second), which the local
//! stack does not emulate.
//!
//! The buckets are [`governor`]'s GCRA, which admits exactly what a token
//! bucket of the same depth and rate admits.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Throttling settings of one level (the stage default, or one route).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// `throttlingBurstLimit`: the bucket's depth.
    pub burst: Option<i32>,
    /// `throttlingRateLimit`: tokens added per second.
    pub rate: Option<f64>,
}

impl Limits {
    /// This level's values, the fallback's where this level has none.
    fn or(self, fallback: Limits) -> Limits {
        Limits { burst: self.burst.or(fallback.burst), rate: self.rate.or(fallback.rate) }
    }
}

/// The throttling settings of a stage, as deployed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageThrottling {
    pub default_route: Limits,
    /// By route key (`GET /notes`).
    pub routes: HashMap<String, Limits>,
}

impl StageThrottling {
    /// The bucket for one route of the stage.
    pub fn throttle_for(&self, route_key: &str) -> Throttle {
        let limits = self.routes.get(route_key).copied().unwrap_or_default().or(self.default_route);
        Throttle::new(limits)
    }
}

/// One route's bucket.
#[derive(Debug)]
pub struct Throttle(Bucket);

#[derive(Debug)]
enum Bucket {
    Unlimited,
    /// Burst or rate 0: nothing passes.
    Blocked,
    Limited(DefaultDirectRateLimiter),
}

impl Throttle {
    /// A route without limits.
    pub fn unlimited() -> Self {
        Self(Bucket::Unlimited)
    }

    pub fn new(limits: Limits) -> Self {
        let (Some(burst), Some(rate)) = (limits.burst, limits.rate) else {
            return Self(Bucket::Unlimited);
        };
        let Ok(burst) = u32::try_from(burst) else {
            return Self(Bucket::Blocked);
        };
        let Some(burst) = NonZeroU32::new(burst) else {
            return Self(Bucket::Blocked);
        };
        if rate.is_nan() || rate <= 0.0 {
            return Self(Bucket::Blocked);
        }
        // A rate too high for a nanosecond period, or infinite, limits nothing.
        match Duration::try_from_secs_f64(1.0 / rate).ok().and_then(Quota::with_period) {
            Some(quota) => Self(Bucket::Limited(RateLimiter::direct(quota.allow_burst(burst)))),
            None => Self(Bucket::Unlimited),
        }
    }

    /// Takes a token; `false` when the request is to be answered 429.
    pub fn admit(&self) -> bool {
        match &self.0 {
            Bucket::Unlimited => true,
            Bucket::Blocked => false,
            Bucket::Limited(limiter) => limiter.check().is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: i32, rate: f64) -> Limits {
        Limits { burst: Some(burst), rate: Some(rate) }
    }

    fn admitted(throttle: &Throttle, requests: usize) -> usize {
        (0..requests).filter(|_| throttle.admit()).count()
    }

    #[test]
    fn a_full_bucket_admits_the_burst_then_throttles() {
        // One token per 1000 s: nothing refills during the test.
        let throttle = Throttle::new(limits(5, 0.001));
        assert_eq!(admitted(&throttle, 20), 5);
        assert!(!throttle.admit());
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let throttle = Throttle::new(limits(1, 10.0));
        assert!(throttle.admit());
        assert!(!throttle.admit(), "the one token is spent");
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.admit(), "a token comes back every 100 ms");
    }

    #[test]
    fn a_zero_limit_blocks_the_route() {
        for blocked in [limits(0, 50.0), limits(10, 0.0), limits(-1, 50.0), limits(10, f64::NAN)] {
            assert_eq!(admitted(&Throttle::new(blocked), 3), 0, "{blocked:?}");
        }
    }

    #[test]
    fn no_limit_or_an_unrepresentable_rate_is_unthrottled() {
        for open in
            [Limits::default(), Limits { burst: Some(1), rate: None }, limits(1, f64::INFINITY), limits(1, 1e12)]
        {
            assert_eq!(admitted(&Throttle::new(open), 100), 100, "{open:?}");
        }
    }

    #[test]
    fn a_route_setting_overrides_the_stage_default_field_by_field() {
        let stage = StageThrottling {
            default_route: limits(100, 0.001),
            routes: HashMap::from([("GET /tenant".to_owned(), Limits { burst: Some(2), rate: None })]),
        };
        assert_eq!(admitted(&stage.throttle_for("GET /tenant"), 10), 2);
        assert_eq!(admitted(&stage.throttle_for("GET /notes"), 200), 100);
    }

    #[test]
    fn each_route_has_its_own_bucket() {
        let stage = StageThrottling { default_route: limits(3, 0.001), routes: HashMap::new() };
        let (notes, users) = (stage.throttle_for("GET /notes"), stage.throttle_for("GET /users"));
        assert_eq!(admitted(&notes, 10), 3);
        assert_eq!(admitted(&users, 10), 3, "draining one route leaves the others alone");
    }
}

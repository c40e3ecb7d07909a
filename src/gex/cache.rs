//! Profiles cached 5 minutes per (symbol, expiry filter) (SPEC 7). Pure: the caller passes
//! the current instant; a forced refresh bypasses the cached value.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::filter::ExpiryFilter;
use super::profile::GexProfile;
use crate::domain::Symbol;

/// How long a computed profile is served from the cache.
pub const GEX_CACHE_TTL: Duration = Duration::minutes(5);

/// Whether a lookup may use the cached value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Serve a value younger than the TTL.
    IfStale,
    /// Recompute whatever the cache holds (the `r` key, a `forceRefresh`).
    Force,
}

#[derive(Clone, Debug)]
struct Entry {
    stored_at: DateTime<Utc>,
    profile: Arc<GexProfile>,
}

/// The cache. Profiles are shared (`Arc`) so a pane and a detector can hold the same one.
#[derive(Clone, Debug, Default)]
pub struct GexCache {
    entries: HashMap<(Symbol, ExpiryFilter), Entry>,
}

impl GexCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached profile if it was stored less than 5 minutes before `now`.
    pub fn get(
        &self,
        symbol: &Symbol,
        filter: ExpiryFilter,
        now: DateTime<Utc>,
    ) -> Option<Arc<GexProfile>> {
        self.entries
            .get(&(symbol.clone(), filter))
            .filter(|e| {
                now.signed_duration_since(e.stored_at) < GEX_CACHE_TTL && now >= e.stored_at
            })
            .map(|e| Arc::clone(&e.profile))
    }

    /// Stores a profile computed at `now`, replacing any older one for the key.
    pub fn put(
        &mut self,
        filter: ExpiryFilter,
        profile: GexProfile,
        now: DateTime<Utc>,
    ) -> Arc<GexProfile> {
        let profile = Arc::new(profile);
        self.entries.insert(
            (profile.symbol.clone(), filter),
            Entry {
                stored_at: now,
                profile: Arc::clone(&profile),
            },
        );
        profile
    }

    /// The cached profile when fresh and `refresh` allows it, else `compute()` stored and
    /// returned. An error from `compute` leaves the cache as it was.
    pub fn get_or_compute<E>(
        &mut self,
        symbol: &Symbol,
        filter: ExpiryFilter,
        now: DateTime<Utc>,
        refresh: Refresh,
        compute: impl FnOnce() -> Result<GexProfile, E>,
    ) -> Result<Arc<GexProfile>, E> {
        if refresh == Refresh::IfStale
            && let Some(hit) = self.get(symbol, filter, now)
        {
            return Ok(hit);
        }
        let profile = compute()?;
        Ok(self.put(filter, profile, now))
    }

    /// Drops entries older than the TTL at `now` (bounded memory for a long-running app).
    pub fn evict_stale(&mut self, now: DateTime<Utc>) {
        self.entries
            .retain(|_, e| now.signed_duration_since(e.stored_at) < GEX_CACHE_TTL);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gex::profile::Regime;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-09-26T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minute)
    }

    fn profile(total: f64) -> GexProfile {
        GexProfile {
            symbol: Symbol::parse("SPY").unwrap(),
            spot: 1.0,
            as_of: at(0),
            total_gex: total,
            total_vanna: 0.0,
            total_charm: 0.0,
            regime: Regime::Positive,
            zero_gamma: None,
            crossings: vec![],
            call_wall: None,
            put_wall: None,
            max_gex_strike: None,
            abs_gamma_strike: None,
            zero_dte_share: 0.0,
            key_levels: vec![],
            strikes: vec![],
            expirations_used: vec![],
            contracts_used: 0,
            atm_straddle: None,
        }
    }

    fn spy() -> Symbol {
        Symbol::parse("SPY").unwrap()
    }

    #[test]
    fn a_profile_is_served_for_five_minutes_then_recomputed() {
        let mut cache = GexCache::new();
        let mut computed = 0;
        let mut get = |cache: &mut GexCache, minute: i64, refresh: Refresh| {
            cache
                .get_or_compute(&spy(), ExpiryFilter::All, at(minute), refresh, || {
                    computed += 1;
                    Ok::<_, ()>(profile(computed as f64))
                })
                .unwrap()
                .total_gex
        };
        assert_eq!(get(&mut cache, 0, Refresh::IfStale), 1.0);
        assert_eq!(
            get(&mut cache, 4, Refresh::IfStale),
            1.0,
            "4 minutes old: cached"
        );
        assert_eq!(
            get(&mut cache, 5, Refresh::IfStale),
            2.0,
            "5 minutes old: stale"
        );
        assert_eq!(
            get(&mut cache, 6, Refresh::Force),
            3.0,
            "a forced refresh bypasses the cache"
        );
        assert_eq!(get(&mut cache, 7, Refresh::IfStale), 3.0);
    }

    #[test]
    fn filters_are_cached_separately_and_errors_keep_the_old_value() {
        let mut cache = GexCache::new();
        cache.put(ExpiryFilter::All, profile(1.0), at(0));
        assert!(cache.get(&spy(), ExpiryFilter::ZeroDte, at(1)).is_none());
        assert!(cache.get(&spy(), ExpiryFilter::All, at(1)).is_some());
        let failed: Result<_, &str> =
            cache.get_or_compute(&spy(), ExpiryFilter::All, at(2), Refresh::Force, || {
                Err("provider down")
            });
        assert_eq!(failed.unwrap_err(), "provider down");
        assert_eq!(
            cache
                .get(&spy(), ExpiryFilter::All, at(2))
                .unwrap()
                .total_gex,
            1.0
        );
        // A clock that went backwards never serves a value "from the future".
        assert!(cache.get(&spy(), ExpiryFilter::All, at(-1)).is_none());
        cache.evict_stale(at(10));
        assert!(cache.is_empty());
    }
}

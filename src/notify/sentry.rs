//! Optional Sentry reporting, compiled only with `--features sentry`: operational
//! incidents become Sentry events (tags `worker`, `incident`), and with the `panic`
//! integration panics are reported too. Without the feature, or without a DSN, every
//! function here does nothing.

use super::incidents::OpsNotice;
use crate::config::SentryConfig;

/// Keep it alive for the life of the process: dropping it flushes pending events.
#[must_use]
pub struct SentryGuard {
    #[cfg(feature = "sentry")]
    _guard: Option<sentry::ClientInitGuard>,
}

impl SentryGuard {
    /// Whether events are sent.
    pub fn is_active(&self) -> bool {
        #[cfg(feature = "sentry")]
        {
            self._guard.as_ref().is_some_and(|g| g.is_enabled())
        }
        #[cfg(not(feature = "sentry"))]
        {
            false
        }
    }
}

/// Starts the Sentry client when built with the feature and a DSN is configured.
/// A DSN that does not parse is reported (without its value) and ignored.
pub fn init(config: &SentryConfig) -> SentryGuard {
    #[cfg(feature = "sentry")]
    {
        if !config.dsn.is_set() {
            return SentryGuard { _guard: None };
        }
        let dsn = match config.dsn.expose().parse::<sentry::types::Dsn>() {
            Ok(dsn) => dsn,
            Err(_) => {
                tracing::warn!("sentry.dsn (or SENTRY_DSN) is not a valid DSN; Sentry is off");
                return SentryGuard { _guard: None };
            }
        };
        let mut options = sentry::ClientOptions::default();
        options.dsn = Some(dsn);
        options.release = sentry::release_name!();
        let guard = sentry::init(options);
        tracing::info!("Sentry reporting is on");
        SentryGuard {
            _guard: Some(guard),
        }
    }
    #[cfg(not(feature = "sentry"))]
    {
        if config.dsn.is_set() {
            tracing::warn!(
                "a Sentry DSN is set but this build has no Sentry support (--features sentry)"
            );
        }
        SentryGuard {}
    }
}

/// Reports an incident (warning when stale, error when failing) or a recovery (info).
#[cfg_attr(not(feature = "sentry"), allow(unused_variables))]
pub fn ops_event(notice: &OpsNotice, text: &str) {
    #[cfg(feature = "sentry")]
    {
        use super::incidents::IncidentKind;
        let (level, kind) = match notice {
            OpsNotice::Incident(i) if i.kind == IncidentKind::Failing => {
                (sentry::Level::Error, i.kind.as_str())
            }
            OpsNotice::Incident(i) => (sentry::Level::Warning, i.kind.as_str()),
            OpsNotice::Recovered(_) => (sentry::Level::Info, "recovered"),
        };
        sentry::with_scope(
            |scope| {
                scope.set_tag("worker", notice.worker());
                scope.set_tag("incident", kind);
            },
            || sentry::capture_message(text, level),
        );
    }
}

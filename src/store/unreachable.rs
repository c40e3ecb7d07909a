//! Why PostgreSQL cannot be reached, in words (issue 22 item 9): the pool only says
//! "pool timed out while waiting for an open connection" when every attempt failed, so one
//! direct connection is tried for the cause (connection refused, unknown host, password
//! refused, no such database) and the host and port are named.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// How long the one diagnostic connection may take.
const PROBE: Duration = Duration::from_secs(5);

/// The reason a pool to `options` could not open, found by one direct connection;
/// `pool_error` is what the pool said, kept when the probe finds nothing better.
pub(super) async fn postgres_reason(
    options: &PgConnectOptions,
    pool_error: &sqlx::Error,
) -> String {
    let place = format!("host {} port {}", options.get_host(), options.get_port());
    let probe = tokio::time::timeout(PROBE, PgConnection::connect_with(options)).await;
    match probe {
        Err(_) => format!(
            "no answer from {place} within {} s (a firewall, or the wrong host?)",
            PROBE.as_secs()
        ),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            format!("{pool_error} ({place} accepts connections now: try again)")
        }
        Ok(Err(e)) => in_words(&e, &place),
    }
}

fn in_words(e: &sqlx::Error, place: &str) -> String {
    use std::io::ErrorKind;
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => format!(
                "connection refused: nothing listens on {place} (is PostgreSQL running, \
                 and on that port?)"
            ),
            ErrorKind::TimedOut => format!("connecting to {place} timed out"),
            _ if io.to_string().contains("lookup") || io.to_string().contains("resolve") => {
                format!("the host of {place} is unknown: {io}")
            }
            _ => format!("{place}: {io}"),
        },
        sqlx::Error::Database(db) => format!("{place} refused the login: {}", db.message()),
        sqlx::Error::Tls(tls) => format!("{place}: TLS failed: {tls}"),
        other => format!("{place}: {other}"),
    }
}

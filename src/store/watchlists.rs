//! Watchlists (SPEC 6): per user, at most one default, with default recovery.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, UserId, on_pool, query_error};
use crate::domain::{Symbol, SymbolError};

/// The list a user without any watchlist gets.
pub const DEFAULT_WATCHLIST: [&str; 4] = ["SPX", "NDX", "SPY", "QQQ"];
/// Most symbols one list may hold.
pub const MAX_SYMBOLS: usize = 50;

#[derive(Clone, Debug, PartialEq)]
pub struct Watchlist {
    pub id: i64,
    pub name: String,
    pub symbols: Vec<Symbol>,
    pub is_default: bool,
    pub updated_at: DateTime<Utc>,
}

/// Why a list of symbols was refused; nothing is saved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchlistError {
    #[error("watchlist entry {position}: {error}")]
    BadSymbol { position: usize, error: SymbolError },
    #[error("a watchlist holds at most {MAX_SYMBOLS} symbols, got {0}")]
    TooMany(usize),
    #[error("{symbol} is not on the watchlist {list:?}")]
    NotListed { symbol: Symbol, list: String },
    #[error("no symbols given")]
    NoSymbols,
    #[error("removing {0} would leave the watchlist empty; replace it with `set` instead")]
    WouldBeEmpty(String),
}

/// Normalises, validates and deduplicates user input (first occurrence kept). The one
/// parser of symbol lists (issue 22 item 8): each input may hold several symbols
/// separated by commas, so the arguments `SPY QQQ`, `SPY,QQQ` and `"SPY, QQQ"` are the
/// same list (a space inside one symbol, `"BRK B"`, is still refused, never split);
/// positions in errors count the symbols.
pub fn parse_symbols<S: AsRef<str>>(input: &[S]) -> Result<Vec<Symbol>, WatchlistError> {
    let words: Vec<&str> = input
        .iter()
        .flat_map(|text| text.as_ref().split(','))
        .filter(|word| !word.trim().is_empty())
        .collect();
    let mut out: Vec<Symbol> = Vec::with_capacity(words.len());
    for (i, text) in words.iter().enumerate() {
        let symbol = Symbol::parse(text).map_err(|error| WatchlistError::BadSymbol {
            position: i + 1,
            error,
        })?;
        if !out.contains(&symbol) {
            out.push(symbol);
        }
    }
    if out.len() > MAX_SYMBOLS {
        return Err(WatchlistError::TooMany(out.len()));
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    symbols: String,
    is_default: bool,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_watchlist(self) -> Watchlist {
        Watchlist {
            id: self.id,
            name: self.name,
            symbols: self
                .symbols
                .split(',')
                .filter_map(|s| Symbol::parse(s).ok())
                .collect(),
            is_default: self.is_default,
            updated_at: self.updated_at,
        }
    }
}

fn join(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// The user's watchlists, default first, then by name.
    pub async fn watchlists(&self, user: UserId) -> Result<Vec<Watchlist>, StoreError> {
        const SQL: &str = "SELECT id, name, symbols, is_default, updated_at FROM watchlists \
             WHERE user_id = $1 ORDER BY is_default DESC, name";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading watchlists"))?);
        Ok(rows.into_iter().map(Row::into_watchlist).collect())
    }

    /// The symbols of every user's default watchlist, each once, in order of first
    /// appearance (read only: a user without one is not given one here).
    pub async fn default_watchlist_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
        const SQL: &str = "SELECT id, name, symbols, is_default, updated_at FROM watchlists \
             WHERE is_default ORDER BY user_id";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the default watchlists"))?);
        let mut symbols: Vec<Symbol> = Vec::new();
        for symbol in rows.into_iter().flat_map(|r| r.into_watchlist().symbols) {
            if !symbols.contains(&symbol) {
                symbols.push(symbol);
            }
        }
        Ok(symbols)
    }

    /// The user's default watchlist, recovering it when missing: a user with no list
    /// gets `Default = [SPX, NDX, SPY, QQQ]`; with lists but none flagged, the most
    /// recently updated becomes the default.
    pub async fn default_watchlist(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        let lists = self.watchlists(user).await?;
        if let Some(default) = lists.iter().find(|w| w.is_default) {
            return Ok(default.clone());
        }
        if let Some(latest) = lists.iter().max_by_key(|w| (w.updated_at, w.id)) {
            const SQL: &str = "UPDATE watchlists SET is_default = TRUE \
                 WHERE id = $1 AND user_id = $2 AND NOT EXISTS \
                 (SELECT 1 FROM watchlists w WHERE w.user_id = $2 AND w.is_default)";
            on_pool!(self, |pool| sqlx::query(SQL)
                .bind(latest.id)
                .bind(user.0)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(query_error("choosing the default watchlist"))?);
        } else {
            const SQL: &str = "INSERT INTO watchlists \
                 (user_id, name, symbols, is_default, created_at, updated_at) \
                 VALUES ($1, 'Default', $2, TRUE, $3, $3) ON CONFLICT DO NOTHING";
            on_pool!(self, |pool| sqlx::query(SQL)
                .bind(user.0)
                .bind(DEFAULT_WATCHLIST.join(","))
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(query_error("creating the default watchlist"))?);
        }
        let lists = self.watchlists(user).await?;
        lists
            .into_iter()
            .find(|w| w.is_default)
            .ok_or(StoreError::Query {
                what: "recovering the default watchlist",
                source: sqlx::Error::RowNotFound,
            })
    }

    /// Adds symbols to the user's default list (kept in order, new ones at the end, no
    /// duplicates). Every symbol is validated first; on any bad one nothing is saved and
    /// the error names it.
    pub async fn add_symbols<S: AsRef<str>>(
        &self,
        user: UserId,
        input: &[S],
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        let added = parse_symbols(input)?;
        if added.is_empty() {
            return Err(WatchlistError::NoSymbols.into());
        }
        self.edit_default(user, now, |list| {
            let mut symbols = list.symbols.clone();
            for symbol in added {
                if !symbols.contains(&symbol) {
                    symbols.push(symbol);
                }
            }
            if symbols.len() > MAX_SYMBOLS {
                return Err(WatchlistError::TooMany(symbols.len()));
            }
            Ok(symbols)
        })
        .await
    }

    /// Removes symbols from the user's default list. Every symbol is validated and must be
    /// on the list, and the list may not become empty; otherwise nothing is saved and the
    /// error names the symbol.
    pub async fn remove_symbols<S: AsRef<str>>(
        &self,
        user: UserId,
        input: &[S],
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        let removed = parse_symbols(input)?;
        if removed.is_empty() {
            return Err(WatchlistError::NoSymbols.into());
        }
        self.edit_default(user, now, |list| {
            if let Some(missing) = removed.iter().find(|s| !list.symbols.contains(s)) {
                return Err(WatchlistError::NotListed {
                    symbol: missing.clone(),
                    list: list.name.clone(),
                });
            }
            let symbols: Vec<Symbol> = list
                .symbols
                .iter()
                .filter(|s| !removed.contains(s))
                .cloned()
                .collect();
            if symbols.is_empty() {
                return Err(WatchlistError::WouldBeEmpty(join(&removed)));
            }
            Ok(symbols)
        })
        .await
    }

    /// Deletes one of the user's lists and returns the default afterwards: deleting the
    /// default makes the most recently updated remaining list the default, and deleting
    /// the last list recreates `Default` (SPEC 6).
    pub async fn delete_watchlist(
        &self,
        user: UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        const SQL: &str = "DELETE FROM watchlists WHERE id = $1 AND user_id = $2";
        let deleted = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(id)
            .bind(user.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("deleting a watchlist"))?);
        if deleted == 0 {
            return Err(StoreError::NotFound(format!("watchlist {id} not found")));
        }
        self.default_watchlist(user, now).await
    }

    /// Read-modify-write of the default list's symbols in one transaction that locks the
    /// row, so two concurrent edits never lose one another.
    async fn edit_default(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        edit: impl FnOnce(&Watchlist) -> Result<Vec<Symbol>, WatchlistError>,
    ) -> Result<Watchlist, StoreError> {
        let list = self.default_watchlist(user, now).await?;
        let (begin, lock) = self.write_transaction();
        const READ: &str = "SELECT id, name, symbols, is_default, updated_at FROM watchlists \
             WHERE id = $1 AND user_id = $2";
        const READ_LOCKED: &str = "SELECT id, name, symbols, is_default, updated_at \
             FROM watchlists WHERE id = $1 AND user_id = $2 FOR UPDATE";
        const WRITE: &str =
            "UPDATE watchlists SET symbols = $1, updated_at = $2 WHERE id = $3 AND user_id = $4";
        let read = if lock { READ_LOCKED } else { READ };
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin_with(begin)
                .await
                .map_err(query_error("starting a watchlist edit"))?;
            let current: Option<Row> = sqlx::query_as(read)
                .bind(list.id)
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error("reading the watchlist"))?;
            let current = current
                .ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "the watchlist {:?} was deleted meanwhile; nothing was saved",
                        list.name
                    ))
                })?
                .into_watchlist();
            let symbols = edit(&current)?;
            sqlx::query(WRITE)
                .bind(join(&symbols))
                .bind(now)
                .bind(list.id)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(query_error("saving the watchlist"))?;
            tx.commit()
                .await
                .map_err(query_error("saving the watchlist"))?;
        });
        self.default_watchlist(user, now).await
    }

    /// Creates another (not default) named list, e.g. for a brief preview. A name the
    /// user already has is a conflict; nothing is saved.
    pub async fn create_watchlist(
        &self,
        user: UserId,
        name: &str,
        symbols: &[Symbol],
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "a watchlist name is 1 to 64 printable characters".into(),
            ));
        }
        if symbols.is_empty() {
            return Err(WatchlistError::NoSymbols.into());
        }
        self.default_watchlist(user, now).await?;
        const SQL: &str = "INSERT INTO watchlists \
             (user_id, name, symbols, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, FALSE, $4, $4) ON CONFLICT (user_id, name) DO NOTHING";
        let inserted = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(user.0)
            .bind(name)
            .bind(join(symbols))
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("creating a watchlist"))?);
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a watchlist named {name:?} already exists"
            )));
        }
        self.watchlists(user)
            .await?
            .into_iter()
            .find(|w| w.name == name)
            .ok_or_else(|| StoreError::NotFound(format!("watchlist {name:?} vanished")))
    }

    /// Replaces the symbols of the user's default list after validating all of them.
    pub async fn set_default_symbols<S: AsRef<str>>(
        &self,
        user: UserId,
        input: &[S],
        now: DateTime<Utc>,
    ) -> Result<Watchlist, StoreError> {
        let symbols = parse_symbols(input)?;
        let list = self.default_watchlist(user, now).await?;
        const SQL: &str =
            "UPDATE watchlists SET symbols = $1, updated_at = $2 WHERE id = $3 AND user_id = $4";
        on_pool!(self, |pool| sqlx::query(SQL)
            .bind(join(&symbols))
            .bind(now)
            .bind(list.id)
            .bind(user.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("saving the watchlist"))?);
        self.default_watchlist(user, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_normalised_and_deduplicated() {
        let parsed = parse_symbols(&[" spy", "QQQ", "Spy ", "brk.b"]).unwrap();
        let names: Vec<&str> = parsed.iter().map(Symbol::as_str).collect();
        assert_eq!(names, ["SPY", "QQQ", "BRK.B"]);
    }

    #[test]
    fn spaces_and_commas_separate_symbols_alike() {
        let names = |input: &[&str]| -> Vec<String> {
            parse_symbols(input)
                .unwrap()
                .iter()
                .map(|s| s.as_str().to_string())
                .collect()
        };
        let want = ["SPY", "QQQ", "IWM"];
        assert_eq!(names(&["SPY", "QQQ", "IWM"]), want);
        assert_eq!(names(&["SPY,QQQ,IWM"]), want);
        assert_eq!(names(&["SPY, QQQ", "iwm,"]), want);
        let err = parse_symbols(&["SPY QQQ"]).unwrap_err().to_string();
        assert!(
            err.contains("\"SPY QQQ\""),
            "one argument with a space: {err}"
        );
        let err = parse_symbols(&["SPY,QQQ,B@D"]).unwrap_err().to_string();
        assert!(err.contains("entry 3") && err.contains("B@D"), "{err}");
    }

    #[test]
    fn a_bad_symbol_is_named_with_its_position() {
        let err = parse_symbols(&["SPY", "QQ Q"]).unwrap_err().to_string();
        assert!(err.contains("entry 2") && err.contains("QQ Q"), "{err}");
        let many: Vec<String> = (0..51).map(|i| format!("S{i}")).collect();
        assert_eq!(
            parse_symbols(&many).unwrap_err(),
            WatchlistError::TooMany(51)
        );
    }
}

//! Which tracked setups a list shows: one status, or all of them. Shared by the Setups
//! pane (`f` cycles it) and `coach setups list --status`.

use std::fmt;
use std::str::FromStr;

use super::SetupStatus;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Triggered,
    Invalidated,
    Archived,
    #[default]
    All,
}

impl StatusFilter {
    /// The order `f` cycles through.
    pub const CYCLE: [StatusFilter; 5] = [
        StatusFilter::Active,
        StatusFilter::Triggered,
        StatusFilter::Invalidated,
        StatusFilter::Archived,
        StatusFilter::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Triggered => "triggered",
            StatusFilter::Invalidated => "invalidated",
            StatusFilter::Archived => "archived",
            StatusFilter::All => "all",
        }
    }

    /// The one status shown, `None` for all.
    pub fn status(self) -> Option<SetupStatus> {
        match self {
            StatusFilter::Active => Some(SetupStatus::Active),
            StatusFilter::Triggered => Some(SetupStatus::Triggered),
            StatusFilter::Invalidated => Some(SetupStatus::Invalidated),
            StatusFilter::Archived => Some(SetupStatus::Archived),
            StatusFilter::All => None,
        }
    }

    pub fn admits(self, status: SetupStatus) -> bool {
        self.status().is_none_or(|s| s == status)
    }

    pub fn next(self) -> StatusFilter {
        let i = Self::CYCLE.iter().position(|f| *f == self).unwrap_or(0);
        Self::CYCLE[(i + 1) % Self::CYCLE.len()]
    }
}

impl fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::CYCLE
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| {
                format!("{s:?} is not one of active, triggered, invalidated, archived, all")
            })
    }
}

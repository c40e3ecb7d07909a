//! Setup detectors (SPEC 4): eight incremental detectors fed every final regular-session
//! 1-minute bar by one [`Engine`].
//!
//! Each detector keeps per-symbol state, does O(1) work per bar (a loop over the fixed
//! set of 16 watched levels at most), allocates nothing unless it fires, and reads its
//! thresholds from [`DetectorsConfig`]. Plans follow one convention: `entry` is a trigger
//! one tick beyond the signal bar in the trade direction, `stop` is beyond the structure
//! that invalidates the idea plus `stop_buffer_atr1m` · ATR1m, and `target` is at least
//! `min_reward_risk` (1.5) R away. A detector that needs a figure that is not known yet
//! (prior day on the first session, daily ATR, ATR1m in the first minutes) stays silent;
//! when the figure is missing for a whole session the engine says so once per symbol and
//! session ([`MissingInput`], from [`Engine::take_missing_inputs`]).

pub mod config;
pub mod context;
pub mod engine;
pub mod missing;
pub mod plan;
pub mod priming;

pub mod break_retest;
pub mod gamma_squeeze;
pub mod gap_fill;
pub mod level_test;
pub mod opening_drive;
pub mod orb_breakout;
pub mod volume_climax;
pub mod vwap;

pub use config::DetectorsConfig;
pub use context::{BarContext, SymbolClass, VolumeReading, VolumeSource};
pub use engine::{BarOutcome, Engine};
pub use missing::MissingInput;
pub use plan::{Emitter, Plan};

/// One setup detector's per-symbol state.
pub trait Detector {
    /// Forgets everything of the previous session; called before a session's first bar.
    fn start_session(&mut self);

    /// Looks at one final regular-session bar and emits what it finds into `out`.
    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>);
}

/// The eight detectors of one symbol, run in this order on every bar.
#[derive(Clone, Debug, Default)]
pub struct Detectors {
    pub orb_breakout: orb_breakout::OrbBreakout,
    pub break_retest: break_retest::BreakRetest,
    pub vwap: vwap::VwapPlay,
    pub gap_fill: gap_fill::GapFill,
    pub volume_climax: volume_climax::VolumeClimax,
    pub level_test: level_test::LevelTest,
    pub gamma_squeeze: gamma_squeeze::GammaSqueeze,
    pub opening_drive: opening_drive::OpeningDrive,
}

impl Detector for Detectors {
    fn start_session(&mut self) {
        self.orb_breakout.start_session();
        self.break_retest.start_session();
        self.vwap.start_session();
        self.gap_fill.start_session();
        self.volume_climax.start_session();
        self.level_test.start_session();
        self.gamma_squeeze.start_session();
        self.opening_drive.start_session();
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        self.orb_breakout.on_bar(ctx, out);
        self.break_retest.on_bar(ctx, out);
        self.vwap.on_bar(ctx, out);
        self.gap_fill.on_bar(ctx, out);
        self.volume_climax.on_bar(ctx, out);
        self.level_test.on_bar(ctx, out);
        self.gamma_squeeze.on_bar(ctx, out);
        self.opening_drive.on_bar(ctx, out);
    }
}
#[cfg(test)]
pub(crate) mod testkit;

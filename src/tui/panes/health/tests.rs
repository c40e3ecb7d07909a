//! The health pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::runtime::health::WorkerState;
use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{empty_app, full_app, pane_screen, worker};

#[test]
fn health_at_80_by_24_lists_each_worker_and_counts_the_failed_one_in_the_title() {
    let mut app = full_app();
    app.update(Action::FocusHealth);
    let screen = pane_screen(&app, PaneId::Health, 80, 24);
    assert!(screen.contains("▶ 5 Health · 1 failing"), "{screen}");
    for needle in [
        "feed",
        "detect",
        "running",
        "FAILED",
        "42s chain request timed out",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn health_at_120_by_40_moves_its_selection_with_down() {
    let mut app = full_app();
    app.update(Action::FocusHealth);
    app.update(Action::Down);
    assert_eq!(app.selected(PaneId::Health), 1);
    let screen = pane_screen(&app, PaneId::Health, 120, 40);
    insta::assert_snapshot!(screen);
}

#[test]
fn health_without_workers_says_so() {
    let screen = pane_screen(&empty_app(), PaneId::Health, 80, 24);
    assert!(screen.contains("no workers running"), "{screen}");
}

/// The Health cell of the grid at 120×40 (30 % of the width, 30 % of the body's height).
const GRID_CELL: (u16, u16) = (36, 11);

#[test]
fn health_in_the_grid_at_120_by_40_shows_full_worker_names_and_states() {
    let mut app = full_app();
    let names = [
        "feed", "detect", "evaluate", "brief", "gex", "alerts", "health", "notify",
    ];
    app.on_health(
        names
            .iter()
            .map(|n| match *n {
                "gex" => worker(n, WorkerState::Failed, Some("chain request timed out")),
                _ => worker(n, WorkerState::Running, None),
            })
            .collect(),
    );
    let screen = pane_screen(&app, PaneId::Health, GRID_CELL.0, GRID_CELL.1);
    for header in ["Worker", "State", "OK ago", "Last error"] {
        assert!(screen.contains(header), "{header:?} cut:\n{screen}");
    }
    for name in names {
        assert!(
            screen.contains(&format!("│{name} ")),
            "{name:?} cut:\n{screen}"
        );
    }
    assert!(screen.contains("evaluate running"), "{screen}");
    assert!(screen.contains("FAILED"), "{screen}");
    assert!(screen.contains("42s chain"), "the error starts:\n{screen}");
}

#[test]
fn the_last_error_column_is_only_as_wide_as_its_text() {
    let app = full_app();
    let screen = pane_screen(&app, PaneId::Health, 120, 10);
    let header = screen.lines().nth(1).unwrap_or_default().to_string();
    let error_row = screen
        .lines()
        .find(|l| l.contains("chain request timed out"))
        .unwrap_or_default()
        .to_string();
    // the counts sit next to the names, not pushed right by a stretched error column
    assert!(
        header.contains("Worker State   OK ago Cycles Err Rst Last error"),
        "{header}"
    );
    assert!(
        error_row
            .trim_end_matches(['│', ' ', '"'])
            .ends_with("timed out"),
        "{error_row}"
    );
}

/// Issue 26 item 10: once a recording played to its end, the workers that follow the feed
/// stop and say why, in the last column, instead of a blank (or a repeated error).
#[test]
fn a_worker_stopped_by_the_end_of_the_recording_says_recording_finished() {
    let mut app = full_app();
    let stopped = |name: &str| {
        let mut w = worker(name, WorkerState::Stopped, None);
        w.note = Some(crate::runtime::bus::RECORDING_FINISHED.to_string());
        w
    };
    app.on_health(vec![
        worker("feed", WorkerState::Stopped, None),
        stopped("detect"),
        stopped("brief"),
        worker("gex", WorkerState::Failed, Some("chain request timed out")),
    ]);
    let screen = pane_screen(&app, PaneId::Health, 80, 24);
    assert!(screen.contains("Last error / note"), "{screen}");
    for name in ["detect", "brief"] {
        let row = screen
            .lines()
            .find(|l| l.contains(&format!("│{name} ")))
            .unwrap_or_default();
        assert!(row.contains("stopped"), "{row}");
        assert!(row.contains("recording finished"), "{row}");
    }
    let feed = screen
        .lines()
        .find(|l| l.contains("│feed "))
        .unwrap_or_default();
    assert!(
        !feed.contains("recording finished"),
        "no note, none shown: {feed}"
    );
    insta::assert_snapshot!(screen);
}

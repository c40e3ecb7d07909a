//! Popups over the panes: help, confirmations, the one-line editors and a setup's details.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::app::setups_view::status_label;
use super::app::{App, Overlay};
use super::theme::Theme;
use crate::market::calendar::NEW_YORK;
use crate::tui::format::price;

/// Draws the open popup.
pub fn draw(frame: &mut Frame, area: Rect, overlay: &Overlay, app: &App, theme: &Theme) {
    match overlay {
        Overlay::Help => draw_help(frame, area, app, theme),
        Overlay::ConfirmQuit => draw_confirm_quit(frame, area, app, theme),
        Overlay::EditWatchlist { input, error } => draw_editor(
            frame,
            area,
            theme,
            " Watchlist ",
            &input.text,
            error.as_deref(),
            "symbols separated by spaces or commas, at most 50 · Enter saves · Esc cancels",
        ),
        Overlay::EditNote { id, input } => draw_editor(
            frame,
            area,
            theme,
            &format!(" Note of setup {id} "),
            &input.text,
            None,
            "Enter saves · Esc cancels · Ctrl-U clears",
        ),
        Overlay::ConfirmDelete { id } => draw_confirm_delete(frame, area, app, *id, theme),
        Overlay::ConfirmCoach { question, .. } => draw_confirm_coach(frame, area, question, theme),
        Overlay::Details { id, history } => {
            draw_details(frame, area, app, *id, history.as_deref(), theme)
        }
        Overlay::Search { input, error } => draw_editor(
            frame,
            area,
            theme,
            " Focus symbol ",
            &input.text,
            error.as_deref(),
            "a ticker, e.g. SPY · GEX and the Chart follow · Enter focuses · Esc cancels",
        ),
        Overlay::NewAlert {
            symbol,
            input,
            candidates,
            pick,
            error,
        } => {
            let from = candidates
                .get(*pick)
                .map(|c| format!("{}/{} {}", pick + 1, candidates.len(), c.label))
                .unwrap_or_else(|| "no level known yet: type one".into());
            let hint = format!(
                "above|below PRICE, move PCT%, relvol N, wall_break PCT%, flip_cross, regime_change, then [repeat] [note] · Up/Down: {from} · Enter sets · Esc cancels"
            );
            draw_editor(
                frame,
                area,
                theme,
                &format!(" Price alert on {symbol} "),
                &input.text,
                error.as_deref(),
                &hint,
            )
        }
        Overlay::ConfirmRemoveAlert { id } => {
            draw_confirm_remove_alert(frame, area, app, *id, theme)
        }
        Overlay::Snooze { target } => draw_snooze(frame, area, *target, theme),
    }
}

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The help text, generated from the live keymap so it can never go stale.
pub fn help_lines(app: &App) -> Vec<(String, &'static str)> {
    Action::ALL
        .into_iter()
        .map(|a| (app.keymap().label(a), a.describe()))
        .collect()
}

/// The help's first line: the keys of the pane that has the focus (its footer hints),
/// before the list of every key.
fn focused_pane_keys(app: &App) -> String {
    let pane = app.panes().get(app.focus());
    let keys: Vec<String> = pane
        .hints(app)
        .into_iter()
        .map(|(keys, what)| format!("{keys} {what}"))
        .collect();
    let name = app.focus().title();
    if keys.is_empty() {
        format!("{name}: no keys of its own; the keys below work everywhere.")
    } else {
        format!("In {name}: {}", keys.join(" · "))
    }
}

/// `text` in lines of at most `width` characters, broken between words (a word longer
/// than the width gets a line of its own, cut when drawn).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// What the help says after the keys: how to read what the panes show.
pub const HELP_NOTES: [&str; 21] = [
    "Scanner: Scr is the score, 0-100: a detection's confidence, a heads-up's strength.",
    "  A win chance where `backtest --calibrate` stored a map; raw in setup details.",
    "Scanner: plans (t tracks them) come first, then ○ heads-up rows (near a level,",
    "  a volume spike) with no plan. A plan leaves once its stop or target trades,",
    "  after [scanner] max_age_minutes, and at the close.",
    "Edge: the stored backtest's win rate · mean R · n trades of the setup on the symbol",
    "  (≥ 20 trades), else of the kind on all symbols (\"all\"). \"negative edge\": the",
    "  kind's mean-R 95 % interval is below 0 over ≥ 100 trades; never auto-tracked.",
    "GEX: dealers assumed long calls, short puts; $ per 1 % move; Black-Scholes gamma.",
    "GEX roles: +γ above spot: resistance/pin; +γ below spot: support/pin; −γ above",
    "  spot: acceleration ↑ (dealers buy as it rises); −γ below spot: acceleration ↓.",
    "GEX vanna: dealers' $ delta change per +1 vol point; + means rising IV makes them",
    "  sell (falling IV, buy). charm: their $ delta change per calendar day; + means",
    "  time passing makes them sell, − buy. 0DTE: today's expiry's share of |γ|.",
    "GEX spot (3m old, last X): the profile was computed 3 minutes ago at spot.",
    "Gamma alerts (A): flip_cross when spot crosses the latest zero gamma (or it moves",
    "  across spot); wall_break X when a minute closes X % of spot beyond a wall;",
    "  regime_change when total GEX changes sign. Each fires once per change.",
    "GEX sparklines: total GEX and spot's distance to the flip (% of spot) per refresh",
    "  today; the Chart draws zero gamma (ZG) as the step line it was through the day.",
    "Keys are remappable in the [keys] section of the config file.",
];

/// Every action with its keys, in one column when it fits the height, else two; text that
/// does not fit a column is cut, never wrapped over the next entry. Then the notes; when
/// it all does not fit the screen, the list keys scroll it (the title says so).
fn draw_help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let entries = help_lines(app);
    let footer = HELP_NOTES;
    let here = focused_pane_keys(app);
    // + the pane's line(s), "Every key:", the blank line and the box's borders.
    let fits_one = entries.len() + footer.len() + 6 <= area.height as usize;
    let columns = if fits_one { 1 } else { 2 };
    let per_column = entries.len().div_ceil(columns);
    let column_width = ((area.width.saturating_sub(4) as usize) / columns).min(70);
    let key_width = 12;
    let box_width = column_width * columns;
    let mut lines: Vec<Line> = wrap_words(&here, box_width.saturating_sub(1))
        .into_iter()
        .map(|line| Line::styled(line, theme.text))
        .collect();
    lines.push(Line::styled("Every key:", theme.dim));
    lines.extend((0..per_column).map(|row| {
        let mut spans = Vec::new();
        for col in 0..columns {
            if let Some((keys, what)) = entries.get(col * per_column + row) {
                let text: String = what
                    .chars()
                    .take(column_width.saturating_sub(key_width + 3))
                    .collect();
                let pad = column_width.saturating_sub(key_width + 2 + text.chars().count());
                spans.push(Span::styled(format!("{keys:>key_width$}  "), theme.header));
                spans.push(Span::styled(
                    format!("{text}{}", " ".repeat(pad)),
                    theme.text,
                ));
            }
        }
        Line::from(spans)
    }));
    lines.push(Line::default());
    lines.extend(footer.map(|text| Line::styled(text, theme.dim)));
    // Lines past the screen are reached by scrolling: the box keeps the screen's height.
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let last_top = lines.len().saturating_sub(rows);
    app.set_help_last_top(last_top);
    let top = app.help_top();
    let title = if last_top == 0 {
        " Help ".to_string()
    } else {
        let k = |a: Action| app.keymap().keys_for(a).first().map(ToString::to_string);
        let keys = [Action::Down, Action::Up, Action::Last, Action::First]
            .into_iter()
            .filter_map(k)
            .collect::<Vec<_>>()
            .join("/");
        format!(
            " Help · lines {}-{} of {} · {keys} scroll · {} closes ",
            top + 1,
            (top + rows).min(lines.len()),
            lines.len(),
            app.keymap().label(Action::Back)
        )
    };
    let shown: Vec<Line> = lines.into_iter().skip(top).take(rows).collect();
    let width = box_width as u16 + 2;
    let rect = centered(area, width, shown.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(shown).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus_border)
                .title(Span::styled(title, theme.focus_title)),
        ),
        rect,
    );
}

/// A one-line editor in a box: the text with a block cursor, an error line, a hint line.
fn draw_editor(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    text: &str,
    error: Option<&str>,
    hint: &str,
) {
    let width = area.width.saturating_sub(4).min(100);
    let rect = centered(area, width, 5);
    frame.render_widget(Clear, rect);
    let inner_width = rect.width.saturating_sub(3) as usize;
    // Show the end of a long text, where the typing happens.
    let chars: Vec<char> = text.chars().collect();
    let visible: String = chars[chars.len().saturating_sub(inner_width)..]
        .iter()
        .collect();
    let lines = vec![
        Line::from(vec![
            Span::styled(visible, theme.text),
            Span::styled("█", theme.focus_title),
        ]),
        match error {
            Some(e) => Line::styled(format!("✗ {e}"), theme.error),
            None => Line::default(),
        },
        Line::styled(hint.to_string(), theme.dim),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus_border)
                .title(Span::styled(title.to_string(), theme.focus_title)),
        ),
        rect,
    );
}

fn draw_confirm_quit(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rect = centered(area, 52, 5);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::styled(
            format!(
                "{} still active.",
                match app.active_setups() {
                    1 => "1 tracked setup is".to_string(),
                    n => format!("{n} tracked setups are"),
                }
            ),
            theme.text,
        ),
        Line::styled("Quit? y = quit, any other key = stay", theme.header),
    ];
    frame.render_widget(
        Paragraph::new(text).alignment(Alignment::Center).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warn)
                .title(Span::styled(" Quit ", theme.warn)),
        ),
        rect,
    );
}

fn draw_confirm_delete(frame: &mut Frame, area: Rect, app: &App, id: i64, theme: &Theme) {
    let what = app
        .panes()
        .setups
        .rows()
        .iter()
        .find(|r| r.setup.id == id)
        .map(|r| format!("{} {} {}", r.setup.symbol, r.setup.kind, r.setup.direction))
        .unwrap_or_default();
    let rect = centered(area, 60, 5);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::styled(
            format!("Delete setup {id} ({what}) and its history?"),
            theme.text,
        ),
        Line::styled("y = delete, any other key = keep", theme.header),
    ];
    frame.render_widget(
        Paragraph::new(text).alignment(Alignment::Center).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warn)
                .title(Span::styled(" Delete ", theme.warn)),
        ),
        rect,
    );
}

/// The coach's `track_setup` asks before tracking: the question names the plan.
fn draw_confirm_coach(frame: &mut Frame, area: Rect, question: &str, theme: &Theme) {
    let rect = centered(area, 72, 6);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::styled(crate::text::printable(question), theme.text),
        Line::styled("y = track it, any other key = don't", theme.header),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.warn)
                    .title(Span::styled(" The coach asks ", theme.warn)),
            ),
        rect,
    );
}

fn draw_confirm_remove_alert(frame: &mut Frame, area: Rect, app: &App, id: i64, theme: &Theme) {
    let what = app
        .panes()
        .chart
        .alerts
        .iter()
        .find(|a| a.id == id)
        .map(|a| format!("{} {}", a.symbol, a.condition))
        .unwrap_or_default();
    let rect = centered(area, 60, 5);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::styled(format!("Remove alert {id} ({what})?"), theme.text),
        Line::styled("y = remove, any other key = keep", theme.header),
    ];
    frame.render_widget(
        Paragraph::new(text).alignment(Alignment::Center).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warn)
                .title(Span::styled(" Remove alert ", theme.warn)),
        ),
        rect,
    );
}

/// `z`: the three snooze lengths, by number.
fn draw_snooze(
    frame: &mut Frame,
    area: Rect,
    target: crate::notify::snooze::SnoozeTarget,
    theme: &Theme,
) {
    use crate::notify::snooze::SnoozeFor;
    let rect = centered(area, 48, 7);
    frame.render_widget(Clear, rect);
    let mut text = vec![Line::styled(
        format!("Silence {target} on every channel for"),
        theme.text,
    )];
    for (n, choice) in SnoozeFor::ALL.iter().enumerate() {
        text.push(Line::styled(
            format!("{}  {}", n + 1, choice.label()),
            theme.text,
        ));
    }
    text.push(Line::styled("any other key = cancel", theme.header));
    frame.render_widget(
        Paragraph::new(text).alignment(Alignment::Center).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warn)
                .title(Span::styled(" Snooze ", theme.warn)),
        ),
        rect,
    );
}

/// "confidence 72 (calibrated; raw 65)", or "confidence 65" where the kind has no map.
fn confidence_text(app: &App, d: &crate::domain::Detection) -> String {
    let scanner = &app.panes().scanner;
    if scanner.is_calibrated(d.kind) {
        format!(
            "confidence {} (calibrated win chance; raw score {})",
            scanner.score(d),
            d.confidence
        )
    } else {
        format!("confidence {}", d.confidence)
    }
}

/// The plan, the detector's rationale (from the Scanner, else as read from the store with
/// the history) and confidence (while the detection is on screen), the note and the
/// journal of every transition.
fn draw_details(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    id: i64,
    history: Option<&[crate::store::SetupEvent]>,
    theme: &Theme,
) {
    let Some(row) = app.panes().setups.rows().iter().find(|r| r.setup.id == id) else {
        return;
    };
    let s = &row.setup;
    let ny = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&NEW_YORK).format("%m-%d %H:%M").to_string()
    };
    let mut lines = vec![
        Line::styled(
            format!(
                "{} {} {} · entry {} · stop {} · target {} · {:.1} R planned",
                s.symbol,
                s.kind,
                s.direction,
                price(s.entry),
                price(s.stop),
                price(s.target),
                s.target_r()
            ),
            theme.header,
        ),
        Line::styled(
            format!(
                "{}{}{} · tracked {} ET",
                status_label(row),
                // Honest fills (SPEC 5): where it was filled and closed.
                match (s.fill_price, s.exit_price) {
                    (Some(f), Some(x)) => format!(" · filled {} → out {}", price(f), price(x)),
                    (Some(f), None) => format!(" · filled {}", price(f)),
                    _ => String::new(),
                },
                s.realised_r
                    .map(|r| format!(" · {r:+.2} R"))
                    .unwrap_or_default(),
                ny(s.tracked_at)
            ),
            theme.text,
        ),
    ];
    let on_screen = s.source_id.and_then(|source| {
        app.panes()
            .scanner
            .opportunities()
            .iter()
            .find(|o| o.id == source)
    });
    let confidence = on_screen.map(|o| confidence_text(app, &o.detection));
    let rationale = on_screen
        .map(|o| o.detection.rationale.clone())
        .or_else(|| app.panes().setups.rationales.get(&s.id).cloned());
    if let Some(r) = rationale {
        lines.push(Line::styled(crate::text::printable(&r), theme.dim));
    }
    if let Some(confidence) = confidence {
        lines.push(Line::styled(confidence, theme.dim));
    }
    if !row.notes.is_empty() {
        lines.push(Line::styled(
            format!("note: {}", crate::text::printable(&row.notes)),
            theme.text,
        ));
    }
    lines.push(Line::default());
    match history {
        None => lines.push(Line::styled("loading history…", theme.dim)),
        Some(events) => {
            for e in events {
                let from = e.from_status.map(|f| f.as_str()).unwrap_or("—");
                let at_price = e
                    .price
                    .map(|p| format!(" @ {}", price(p)))
                    .unwrap_or_default();
                // The attempt's result stays on its event after a reopen (SPEC 5).
                let at_price = match e.realised_r {
                    Some(r) => format!("{at_price} {r:+.2} R"),
                    None => at_price,
                };
                lines.push(Line::styled(
                    format!(
                        "{} ET  {from} → {}  {}{at_price}  ({})",
                        ny(e.at),
                        e.to_status.as_str(),
                        e.reason,
                        crate::text::printable(&e.actor)
                    ),
                    theme.text,
                ));
            }
        }
    }
    let height = (lines.len() as u16 + 4).min(area.height);
    let rect = centered(area, area.width.saturating_sub(4).min(100), height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus_border)
                .title(Span::styled(format!(" Setup {id} "), theme.focus_title))
                .title_bottom(Span::styled(
                    format!(" {} closes ", app.keymap().label(Action::Back)),
                    theme.dim,
                )),
        ),
        rect,
    );
}

//! Drawing: the app's state as ratatui widgets (a title line, the screen, the last message
//! and the keys that work here). Reads the state only.

use motcua_client::{DraftState, OnlineLevel, OutboxState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};
use serde_json::Value;

use crate::app::{App, FormState, HOME_ITEMS, Inputs, REPORT_HIDE_ROW, REPORT_SEND_ROW, ReportState, Screen};
use crate::form::RowKind;
use crate::text::{self, Lang, tr};

const CURSOR: &str = "▏";

fn bold(s: impl Into<String>) -> Span<'static> {
    Span::styled(s.into(), Style::default().add_modifier(Modifier::BOLD))
}

fn warn(s: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(format!("    ⚠ {}", s.into()), Style::default().fg(Color::Red)))
}

fn input_label(lang: Lang, key: &str) -> &'static str {
    match key {
        "login" => tr(lang, "Số điện thoại hoặc số CCCD", "Phone or citizen ID"),
        "password" => tr(lang, "Mật khẩu", "Password"),
        "citizen_id" => tr(lang, "Số CCCD (12 số)", "Citizen ID (12 digits)"),
        "phone" => tr(lang, "Số điện thoại", "Phone"),
        "full_name" => tr(lang, "Họ và tên", "Full name"),
        "code" => tr(lang, "Mã xác minh (6 số)", "Verification code (6 digits)"),
        "score" => tr(lang, "Số sao (1-5)", "Stars (1-5)"),
        "comment" => tr(lang, "Nhận xét", "Comment"),
        "position" => tr(lang, "Vị trí (vĩ độ, kinh độ)", "Position (latitude, longitude)"),
        "category" => tr(lang, "Loại sự việc (mã)", "Category (code)"),
        "description" => tr(lang, "Mô tả", "Description"),
        "address" => tr(lang, "Địa chỉ", "Address"),
        "lat" => tr(lang, "Vĩ độ", "Latitude"),
        "lng" => tr(lang, "Kinh độ", "Longitude"),
        "photo" => tr(lang, "Ảnh (đường dẫn tệp, Enter để thêm)", "Photo (file path, Enter adds it)"),
        _ => "",
    }
}

fn input_lines(lang: Lang, inputs: &Inputs) -> Vec<Line<'static>> {
    inputs
        .labels
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let focused = i == inputs.focus;
            let value = inputs.values.get(i).cloned().unwrap_or_default();
            let shown = if inputs.secret.get(i).copied().unwrap_or(false) {
                "•".repeat(value.chars().count())
            } else {
                value
            };
            let marker = if focused { "› " } else { "  " };
            let cursor = if focused { CURSOR } else { "" };
            Line::from(vec![
                Span::raw(marker),
                bold(format!("{}: ", input_label(lang, key))),
                Span::raw(shown + cursor),
            ])
        })
        .collect()
}

fn title(app: &App) -> &'static str {
    let t = |vi, en| tr(app.lang, vi, en);
    match &app.screen {
        Screen::Welcome { .. } => t("Chào mừng", "Welcome"),
        Screen::Login(_) => t("Đăng nhập", "Sign in"),
        Screen::Register(_) => t("Đăng ký tài khoản", "Register"),
        Screen::Verify { .. } => t("Xác minh số điện thoại", "Verify the phone"),
        Screen::Home { .. } => t("Trang chính", "Home"),
        Screen::Search { .. } => t("Tìm thủ tục", "Find a procedure"),
        Screen::Procedure { .. } => t("Thủ tục", "Procedure"),
        Screen::Form(_) => t("Tờ khai", "Form"),
        Screen::Drafts { .. } => t("Hồ sơ đang soạn", "Drafts"),
        Screen::Outbox { .. } => t("Hộp thư đi", "Outbox"),
        Screen::Dossiers { .. } => t("Hồ sơ của tôi", "My dossiers"),
        Screen::Dossier { .. } => t("Chi tiết hồ sơ", "Dossier"),
        Screen::Notifications { .. } => t("Thông báo", "Notifications"),
        Screen::Points { .. } => t("Điểm phục vụ gần tôi", "Service points near me"),
        Screen::Report(_) => t("Phản ánh hiện trường", "Field report"),
        Screen::Reports { .. } => t("Phản ánh của tôi", "My reports"),
    }
}

fn keys(app: &App) -> &'static str {
    let t = |vi, en| tr(app.lang, vi, en);
    match &app.screen {
        Screen::Welcome { .. } | Screen::Home { .. } => {
            t("↑↓ chọn · Enter mở · số: chọn nhanh · q thoát", "↑↓ move · Enter open · digit: pick · q quit")
        }
        Screen::Login(_) | Screen::Register(_) | Screen::Verify { .. } | Screen::Points { .. } => {
            t("Enter: ô tiếp theo / gửi · ↑↓ đổi ô · Esc quay lại", "Enter: next field / send · ↑↓ move · Esc back")
        }
        Screen::Search { .. } => t(
            "Gõ để tìm (không dấu cũng được) · ↑↓ chọn · Enter mở · Esc quay lại",
            "Type to search (diacritics optional) · ↑↓ move · Enter open · Esc back",
        ),
        Screen::Procedure { .. } => t("n: nộp hồ sơ trực tuyến · Esc quay lại", "n: file online · Esc back"),
        Screen::Form(f) if f.edit.is_some() => t(
            "Gõ giá trị (lưu và kiểm tra ngay) · Enter xong · Esc thôi",
            "Type (saved and checked at once) · Enter done · Esc stop",
        ),
        Screen::Form(_) => t(
            "↑↓ chọn · Enter sửa/chọn/đính kèm · ←→ đổi lựa chọn · n nộp · Esc quay lại",
            "↑↓ move · Enter edit/pick/attach · ←→ change choice · n submit · Esc back",
        ),
        Screen::Drafts { .. } | Screen::Reports { .. } => {
            t("↑↓ chọn · Enter mở · Esc quay lại", "↑↓ move · Enter open · Esc back")
        }
        Screen::Outbox { .. } => t("s: đồng bộ ngay · Enter mở · Esc quay lại", "s: sync now · Enter open · Esc back"),
        Screen::Dossiers { .. } | Screen::Notifications { .. } => {
            t("↑↓ chọn · Enter mở · r tải lại · Esc quay lại", "↑↓ move · Enter open · r reload · Esc back")
        }
        Screen::Dossier { .. } => t(
            "r tải lại · b trả lời yêu cầu bổ sung · d đánh giá · k tải kết quả · Esc quay lại",
            "r reload · b answer a supplement request · d rate · k download the result · Esc back",
        ),
        Screen::Report(_) => t(
            "↑↓ đổi ô · Enter lưu / thêm ảnh / gửi · Esc quay lại",
            "↑↓ move · Enter save / add photo / send · Esc back",
        ),
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, busy: bool) {
    let [head, body, flash, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(2), Constraint::Length(1)])
            .areas(frame.area());
    let user = app.user.as_ref().map(|u| u.full_name.clone()).unwrap_or_default();
    let header = Line::from(vec![
        Span::styled(" MỘT CỬA ", Style::default().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
        bold(title(app)),
        Span::raw(if user.is_empty() { String::new() } else { format!("  ·  {user}") }),
    ]);
    frame.render_widget(Paragraph::new(header), head);
    draw_body(frame, app, body);
    let message = if busy {
        Some((false, tr(app.lang, "Đang xử lý…", "Working…").to_owned()))
    } else {
        app.flash.as_ref().map(|f| (f.error, f.text.clone()))
    };
    if let Some((error, text)) = message {
        let color = if error { Color::Red } else { Color::Green };
        frame.render_widget(Paragraph::new(text).style(Style::default().fg(color)).wrap(Wrap { trim: true }), flash);
    }
    frame.render_widget(Paragraph::new(keys(app)).style(Style::default().fg(Color::DarkGray)), foot);
}

fn list(frame: &mut Frame, area: Rect, items: Vec<ListItem<'static>>, sel: usize) {
    let mut state = ListState::default().with_selected((!items.is_empty()).then_some(sel));
    let widget =
        List::new(items).highlight_symbol("› ").highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    frame.render_stateful_widget(widget, area, &mut state);
}

fn paragraph(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false }), area);
}

fn draw_body(frame: &mut Frame, app: &App, area: Rect) {
    let lang = app.lang;
    let t = |vi, en| tr(lang, vi, en);
    match &app.screen {
        Screen::Welcome { sel } => {
            let items = vec![
                ListItem::new(format!("1. {}", t("Đăng nhập", "Sign in"))),
                ListItem::new(format!("2. {}", t("Đăng ký tài khoản", "Register"))),
                ListItem::new(t("Thoát", "Quit")),
            ];
            let [intro, rest] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
            paragraph(
                frame,
                intro,
                vec![
                    Line::from(bold(t("Dịch vụ công một cửa", "One-stop public services"))),
                    Line::from(t(
                        "Nộp hồ sơ, theo dõi kết quả, phản ánh hiện trường.",
                        "File dossiers, follow them, report problems in the street.",
                    )),
                ],
            );
            list(frame, rest, items, *sel);
        }
        Screen::Login(inputs) | Screen::Register(inputs) => paragraph(frame, area, input_lines(lang, inputs)),
        Screen::Verify { verification, code } => {
            let mut lines = vec![Line::from(format!(
                "{} {} ({} {} {}).",
                t("Nhập mã đã gửi tới", "Type the code sent to"),
                verification.phone,
                t("hiệu lực", "valid for"),
                verification.expires_in_secs / 60,
                t("phút", "minutes")
            ))];
            lines.extend(input_lines(lang, code));
            paragraph(frame, area, lines);
        }
        Screen::Home { sel } => {
            let names = [
                t("Tìm thủ tục và nộp hồ sơ", "Find a procedure and file"),
                t("Hồ sơ đang soạn", "Drafts"),
                t("Hộp thư đi", "Outbox"),
                t("Hồ sơ của tôi", "My dossiers"),
                t("Thông báo", "Notifications"),
                t("Điểm phục vụ gần tôi", "Service points near me"),
                t("Phản ánh hiện trường", "Report a problem"),
                t("Phản ánh của tôi", "My reports"),
                t("Đồng bộ ngay", "Sync now"),
                t("Đăng xuất", "Sign out"),
            ];
            let items = (0..HOME_ITEMS).map(|i| ListItem::new(format!("{}. {}", (i + 1) % 10, names[i]))).collect();
            list(frame, area, items, *sel);
        }
        Screen::Search { query, results, sel } => {
            let [input, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
            let mut head = vec![Line::from(vec![bold(t("Tìm: ", "Search: ")), Span::raw(format!("{query}{CURSOR}"))])];
            if results.first().is_some_and(|r| r.nearest) {
                head.push(Line::from(t(
                    "Không thấy thủ tục khớp hết; các thủ tục gần nhất:",
                    "Nothing matches every word; the nearest procedures:",
                )));
            }
            paragraph(frame, input, head);
            let items = results
                .iter()
                .map(|p| {
                    let name = if lang == Lang::En && !p.name_en.is_empty() { &p.name_en } else { &p.name };
                    ListItem::new(format!(
                        "{name} · {} · {}",
                        text::money(lang, p.fee_online_vnd),
                        text::processing_days(lang, p.processing_days)
                    ))
                })
                .collect();
            list(frame, rest, items, *sel);
        }
        Screen::Procedure { detail } => paragraph(frame, area, procedure_lines(lang, detail)),
        Screen::Form(state) => draw_form(frame, lang, state, area),
        Screen::Drafts { items, sel } => {
            let items = items
                .iter()
                .map(|d| {
                    let state = match d.state {
                        DraftState::Editing => t("Đang soạn", "Editing"),
                        DraftState::Queued => t("Chờ gửi", "Queued"),
                        DraftState::Parked => t("Cần xử lý", "Needs attention"),
                        DraftState::Sent => t("Đã gửi", "Sent"),
                    };
                    let answer = if d.supplement_for.is_some() {
                        t(" (trả lời bổ sung)", " (supplement answer)")
                    } else {
                        ""
                    };
                    ListItem::new(format!(
                        "{}{answer} · {state} · {}",
                        d.procedure_name,
                        text::date_time(d.updated_at_ms)
                    ))
                })
                .collect::<Vec<_>>();
            if items.is_empty() {
                paragraph(frame, area, vec![Line::from(t("Chưa có bản nháp nào.", "No drafts yet."))]);
            } else {
                list(frame, area, items, *sel);
            }
        }
        Screen::Outbox { items, names, sel } => {
            let rows = items
                .iter()
                .map(|i| {
                    let name = names.get(&i.draft_id).cloned().unwrap_or_default();
                    let color = match i.state {
                        OutboxState::Sent => Color::Green,
                        OutboxState::Parked => Color::Red,
                        OutboxState::Pending => Color::Yellow,
                    };
                    ListItem::new(Line::from(vec![
                        Span::raw(format!("{name} · ")),
                        Span::styled(text::outbox_state(lang, i), Style::default().fg(color)),
                    ]))
                })
                .collect::<Vec<_>>();
            if rows.is_empty() {
                paragraph(frame, area, vec![Line::from(t("Hộp thư đi trống.", "The outbox is empty."))]);
            } else {
                list(frame, area, rows, *sel);
            }
        }
        Screen::Dossiers { items, sel, .. } => {
            let rows = items
                .iter()
                .map(|d| {
                    let due = d.due_date.as_deref().map(text::date).unwrap_or_else(|| "—".to_owned());
                    ListItem::new(Text::from(vec![
                        Line::from(vec![bold(d.code.clone()), Span::raw(format!(" · {}", d.procedure_name))]),
                        Line::from(format!(
                            "   {}: {} · {}: {due} · {}",
                            t("Trạng thái", "Status"),
                            d.status_label,
                            t("Hạn", "Due"),
                            text::deadline(lang, d.deadline.as_str())
                        )),
                    ]))
                })
                .collect::<Vec<_>>();
            if rows.is_empty() {
                paragraph(frame, area, vec![Line::from(t("Chưa có hồ sơ nào.", "No dossiers yet."))]);
            } else {
                list(frame, area, rows, *sel);
            }
        }
        Screen::Dossier { detail, rating, saved } => {
            let d = &detail.item;
            let mut lines = vec![
                Line::from(vec![bold(format!("{} ", t("Mã hồ sơ:", "Code:"))), Span::raw(d.code.clone())]),
                Line::from(d.procedure_name.clone()),
                Line::from(vec![bold(format!("{} ", t("Trạng thái:", "Status:"))), Span::raw(d.status_label.clone())]),
                Line::from(format!("{} {}", t("Ngày nộp:", "Filed:"), text::date_time(d.submitted_at_ms))),
                Line::from(format!(
                    "{} {} ({})",
                    t("Hạn giải quyết:", "Due:"),
                    d.due_date.as_deref().map(text::date).unwrap_or_else(|| "—".to_owned()),
                    text::deadline(lang, d.deadline.as_str())
                )),
            ];
            if let Some(request) = &detail.supplement_request {
                let by = request.requested_by.clone().unwrap_or_else(|| {
                    if request.by_agency {
                        t("cơ quan chuyên môn", "the competent agency")
                    } else {
                        t("cán bộ", "the officer")
                    }
                    .to_owned()
                });
                lines.push(Line::from(Span::styled(
                    format!(
                        "{} ({}, {}): {}",
                        t("Yêu cầu bổ sung", "Supplement requested"),
                        by,
                        text::date_time(request.requested_at_ms),
                        request.note
                    ),
                    Style::default().fg(Color::Yellow),
                )));
                lines.push(Line::from(t(
                    "Nhấn b để bổ sung: sửa thông tin, đính kèm giấy tờ, rồi n để gửi.",
                    "Press b to answer: edit the values, attach papers, then n to send.",
                )));
            }
            if let Some(v) = &detail.tracking_verifier {
                lines.push(Line::from(format!("{} {v}", t("Mã tra cứu:", "Tracking code:"))));
            }
            if let Some(score) = detail.rating_score {
                lines.push(Line::from(format!(
                    "{} {}/5 {}",
                    t("Đánh giá:", "Rating:"),
                    score,
                    detail.rating_comment.clone().unwrap_or_default()
                )));
            }
            if let Some(path) = saved {
                lines.push(Line::from(Span::styled(
                    format!("{} {path}", t("Văn bản kết quả đã lưu:", "Result document saved:")),
                    Style::default().fg(Color::Green),
                )));
            }
            lines.push(Line::from(bold(t("Quá trình xử lý", "Timeline"))));
            for step in &detail.timeline {
                let note = step.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
                lines.push(Line::from(format!(
                    "  {}  {} → {}{note}",
                    text::date_time(step.at_ms),
                    text::action(lang, step.action.as_str()),
                    text::status(lang, step.to_status.as_str())
                )));
            }
            if let Some(inputs) = rating {
                lines.push(Line::from(bold(t("Đánh giá hồ sơ", "Rate the dossier"))));
                lines.extend(input_lines(lang, inputs));
            }
            paragraph(frame, area, lines);
        }
        Screen::Notifications { items, sel, offline } => {
            let rows = items
                .iter()
                .map(|n| {
                    let dot = if n.read { "  " } else { "• " };
                    ListItem::new(Text::from(vec![
                        Line::from(vec![
                            Span::raw(dot),
                            bold(n.title.clone()),
                            Span::raw(format!(" · {}", text::date_time(n.created_at_ms))),
                        ]),
                        Line::from(format!("   {}", n.body)),
                    ]))
                })
                .collect::<Vec<_>>();
            if rows.is_empty() {
                let mut lines = vec![Line::from(t("Chưa có thông báo.", "No notifications."))];
                if *offline {
                    lines.push(Line::from(t("(chưa kết nối được máy chủ)", "(the server cannot be reached)")));
                }
                paragraph(frame, area, lines);
            } else {
                list(frame, area, rows, *sel);
            }
        }
        Screen::Points { position, items, offline } => {
            let mut lines = input_lines(lang, position);
            if *offline {
                lines.push(Line::from(t("Đang dùng danh sách đã lưu (không có mạng).", "Saved list (no network).")));
            }
            for p in items.iter().take(12) {
                let distance = p.distance_km.map(|d| text::km(lang, d)).unwrap_or_default();
                lines.push(Line::from(vec![bold(p.name.clone()), Span::raw(format!(" · {distance}"))]));
                let mut about = vec![p.address.clone()];
                about.extend(p.opening_hours.clone());
                about.extend(p.phone.clone().map(|ph| format!("ĐT {ph}")));
                lines.push(Line::from(format!("   {}", about.join(" · "))));
            }
            paragraph(frame, area, lines);
        }
        Screen::Report(state) => paragraph(frame, area, report_lines(lang, state)),
        Screen::Reports { items, sel, .. } => {
            let rows = items
                .iter()
                .map(|r| {
                    ListItem::new(format!(
                        "{} · {} · {} · {} {}",
                        r.code,
                        r.category,
                        r.status_label,
                        t("hạn", "due"),
                        text::date(&r.due_date)
                    ))
                })
                .collect::<Vec<_>>();
            if rows.is_empty() {
                paragraph(frame, area, vec![Line::from(t("Chưa có phản ánh nào.", "No reports yet."))]);
            } else {
                list(frame, area, rows, *sel);
            }
        }
    }
}

fn procedure_lines(lang: Lang, detail: &motcua_client::ProcedureDetail) -> Vec<Line<'static>> {
    let t = |vi, en| tr(lang, vi, en);
    let p = &detail.item;
    let procedure: Value = serde_json::from_str(&detail.procedure_json).unwrap_or_default();
    let name = if lang == Lang::En && !p.name_en.is_empty() { &p.name_en } else { &p.name };
    let mut lines = vec![
        Line::from(bold(name.clone())),
        Line::from(format!("{} {}", t("Mã thủ tục:", "Code:"), p.code)),
        Line::from(format!("{} {}", t("Cơ quan giải quyết:", "Agency:"), p.agency)),
        Line::from(format!(
            "{} {}",
            t("Lệ phí (nộp trực tuyến):", "Fee (online):"),
            text::money(lang, p.fee_online_vnd)
        )),
        Line::from(format!(
            "{} {}",
            t("Thời hạn giải quyết:", "Processing time:"),
            text::processing_days(lang, p.processing_days)
        )),
        Line::from(match &p.online_level {
            OnlineLevel::Full => t("Dịch vụ công trực tuyến toàn trình", "Fully online").to_owned(),
            OnlineLevel::Partial => t("Dịch vụ công trực tuyến một phần", "Partly online").to_owned(),
            OnlineLevel::Unknown { code } => code.clone(),
        }),
    ];
    if let Some(note) = procedure["fee_note"].as_str() {
        lines.push(Line::from(format!("  {note}")));
    }
    lines.push(Line::from(bold(t("Giấy tờ cần có", "Papers needed"))));
    for doc in procedure["required_documents"].as_array().into_iter().flatten() {
        let name = match (lang, doc["name_en"].as_str()) {
            (Lang::En, Some(en)) => en,
            _ => doc["name"].as_str().unwrap_or_default(),
        };
        let kind = if doc["original"].as_bool().unwrap_or(false) {
            t("bản chính", "original")
        } else {
            t("bản sao", "copy")
        };
        let when = doc["only_when"].as_str().map(|w| format!(" — {w}")).unwrap_or_default();
        lines.push(Line::from(format!("  • {name} ({kind}, {}){when}", doc["count"].as_u64().unwrap_or(1))));
    }
    lines
}

fn draw_form(frame: &mut Frame, lang: Lang, state: &FormState, area: Rect) {
    let t = |vi, en| tr(lang, vi, en);
    let [head, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let count = state.view.issues.len();
    let status = if !state.editable() {
        t("Đã nộp, không sửa được.", "Submitted: not editable.").to_owned()
    } else if count == 0 {
        t("Đã điền đủ, có thể nộp (n).", "Complete: ready to submit (n).").to_owned()
    } else {
        format!("{} {count} {}", t("Còn", "Still"), t("mục cần sửa.", "problems to fix."))
    };
    paragraph(frame, head, vec![Line::from(bold(state.view.procedure_name.clone())), Line::from(status)]);
    let items = state
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let star = if row.required { " *" } else { "" };
            let selected = i == state.sel;
            let value = match (&state.edit, i == state.sel) {
                (Some(text), true) if row.kind == RowKind::Attachment => {
                    format!("{} {text}{CURSOR}", t("đường dẫn tệp:", "file path:"))
                }
                (Some(text), true) => format!("{text}{CURSOR}"),
                _ if row.display.is_empty() => match row.kind {
                    RowKind::Attachment => {
                        t("(chưa có tệp, Enter để đính kèm)", "(no file: Enter to attach)").to_owned()
                    }
                    RowKind::Select { .. } => t("(chưa chọn, ←→ để chọn)", "(none: ←→ to pick)").to_owned(),
                    RowKind::MultiSelect { .. } => t("(chưa chọn, Enter để chọn)", "(none: Enter to pick)").to_owned(),
                    _ => "—".to_owned(),
                },
                _ => row.display.clone(),
            };
            let mut lines = vec![Line::from(vec![bold(format!("{}{star}: ", row.label)), Span::raw(value)])];
            if selected && let Some(hint) = &row.hint {
                lines.push(Line::from(Span::styled(format!("    {hint}"), Style::default().fg(Color::DarkGray))));
            }
            lines.extend(row.issues.iter().map(|m| warn(m.clone())));
            ListItem::new(Text::from(lines))
        })
        .collect();
    list(frame, rest, items, state.sel);
}

fn report_lines(lang: Lang, state: &ReportState) -> Vec<Line<'static>> {
    let t = |vi, en| tr(lang, vi, en);
    let mut lines = vec![Line::from(t(
        "Loại: rac-thai, o-ga-mat-duong, den-chieu-sang, ngap-ung, cay-xanh, lan-chiem-via-he, khac…",
        "Category: rac-thai, o-ga-mat-duong, den-chieu-sang, ngap-ung, cay-xanh, lan-chiem-via-he, khac…",
    ))];
    let inputs = input_lines(lang, &state.inputs);
    let paths = ["category", "description", "address", "lat", "lng", "photos"];
    for (i, line) in inputs.into_iter().enumerate() {
        lines.push(line);
        for issue in state.draft.issues.iter().filter(|x| Some(&x.path.as_str()) == paths.get(i)) {
            lines.push(warn(issue.message.clone()));
        }
    }
    let names: Vec<&str> = state.draft.photos.iter().map(|p| p.file_name.as_str()).collect();
    lines.push(Line::from(format!("  {} {}", t("Ảnh đã thêm:", "Photos:"), names.join(", "))));
    let focus = |row: usize| if state.inputs.focus == row { "› " } else { "  " };
    let tick = if state.hide_identity { "[x]" } else { "[ ]" };
    lines.push(Line::from(format!(
        "{}{tick} {}",
        focus(REPORT_HIDE_ROW),
        t("Ẩn danh tính với công chúng", "Hide my identity from the public")
    )));
    lines.push(Line::from(vec![Span::raw(focus(REPORT_SEND_ROW)), bold(t("[ Gửi phản ánh ]", "[ Send the report ]"))]));
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::Msg;
    use motcua_client::{DossierDetail, DossierItem, TimelineItem};
    use ratatui::backend::TestBackend;

    fn screen(app: &App) -> String {
        let mut terminal = ratatui::Terminal::new(TestBackend::new(100, 30)).expect("a test terminal");
        terminal.draw(|f| draw(f, app, false)).expect("drawn");
        let buffer = terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// A dossier in processing, filed 9 March 2026 at 08:30 in Hanoi.
    pub(crate) fn detail(lang: Lang) -> DossierDetail {
        // 9 March 2026, 01:30 UTC: 08:30 in Hanoi.
        let at = 1_773_019_800_000;
        let step = |to: &str| TimelineItem {
            at_ms: at,
            action: motcua_client::TimelineAction::Receive,
            from_status: None,
            to_status: motcua_client::DossierStatus::from_code(to),
            actor_role: motcua_client::Role::Officer,
            actor_name: None,
            note: None,
        };
        DossierDetail {
            item: DossierItem {
                id: "x".into(),
                code: "H26.00-260309-0001".into(),
                procedure_code: "2.000635".into(),
                procedure_name: "Cấp bản sao trích lục hộ tịch".into(),
                status: motcua_client::DossierStatus::InProcessing,
                status_label: if lang == Lang::En { "In processing" } else { "Đang xử lý" }.into(),
                branch_code: "H26.00".into(),
                submitted_at_ms: at,
                updated_at_ms: at,
                due_date: Some("2026-03-12".into()),
                deadline: motcua_client::DeadlineState::AtRisk,
            },
            form_version: 1,
            values_json: "{}".into(),
            timeline: vec![step("submitted"), step("received"), step("in_processing")],
            tracking_verifier: None,
            rating_score: None,
            rating_comment: None,
            supplement_request: None,
        }
    }

    fn dossier(lang: Lang) -> App {
        let mut app = App::new(lang, None);
        app.on_msg(Msg::Dossier(detail(lang)));
        app
    }

    #[test]
    fn a_dossier_reads_in_words_and_day_first_dates() {
        let vi = screen(&dossier(Lang::Vi));
        for text in [
            "Trạng thái: Đang xử lý",
            "Ngày nộp: 09/03/2026 08:30",
            "Hạn giải quyết: 12/03/2026 (Sắp đến hạn)",
            "09/03/2026 08:30  Tiếp nhận → Đã tiếp nhận",
            "r tải lại · b trả lời yêu cầu bổ sung · d đánh giá · k tải kết quả · Esc quay lại",
        ] {
            assert!(vi.contains(text), "{text}:\n{vi}");
        }
        for code in ["in_processing", "received", "at_risk", "2026-03-12"] {
            assert!(!vi.contains(code), "{code}:\n{vi}");
        }
        let mut asked = detail(Lang::Vi);
        asked.supplement_request = Some(motcua_client::SupplementRequest {
            note: "Thiếu tờ khai có chữ ký".into(),
            requested_at_ms: 1_773_019_800_000,
            by_agency: false,
            requested_by: None,
        });
        let mut app = App::new(Lang::Vi, None);
        app.on_msg(Msg::Dossier(asked));
        let text = screen(&app);
        assert!(text.contains("Yêu cầu bổ sung (cán bộ, 09/03/2026 08:30): Thiếu tờ khai có chữ ký"), "{text}");
        assert!(!text.contains("Văn bản kết quả đã lưu:"), "{text}");
        app.on_msg(Msg::ResultSaved { dossier_id: "x".into(), path: "/d/ket-qua/kq.pdf".into() });
        let text = screen(&app);
        assert!(text.contains("Văn bản kết quả đã lưu: /d/ket-qua/kq.pdf"), "{text}");
        let en = screen(&dossier(Lang::En));
        assert!(en.contains("Status: In processing") && en.contains("Due: 12/03/2026 (Due soon)"), "{en}");
    }

    #[test]
    fn the_welcome_screen_offers_sign_in_and_registration() {
        let text = screen(&App::new(Lang::Vi, None));
        assert!(text.contains("1. Đăng nhập") && text.contains("2. Đăng ký tài khoản"), "{text}");
    }
}

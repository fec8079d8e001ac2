//! The terminal app's entry point: reads the options, opens the core on a data folder,
//! and runs the loop (draw, read a key, run the commands it gives) until the citizen quits.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Parser;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use motcua_client::{Client, ClientConfig, FileTokenStore};
use motcua_terminal::app::{App, Cmd, Key, Msg};
use motcua_terminal::exec::{self, ChannelListener};
use motcua_terminal::text::{Lang, parse_lang};
use motcua_terminal::ui;

/// Một cửa in a terminal: file and follow dossiers as on the phone.
#[derive(Debug, Parser)]
#[command(name = "motcua-terminal", version)]
struct Args {
    /// The server (as started by `cargo run --release -p motcua-server`).
    #[arg(long, env = "MOTCUA_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Where the app keeps its store, drafts' files, session and saved results (`ket-qua/`).
    #[arg(long, env = "MOTCUA_TERMINAL_DIR")]
    data_dir: Option<PathBuf>,
    /// `vi` (default) or `en`.
    #[arg(long, env = "MOTCUA_LANG", default_value = "vi")]
    lang: String,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

fn key_of(event: KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char('c') if ctrl => Key::Interrupt,
        KeyCode::Char(c) if !ctrl => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::Up,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

fn default_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/motcua-terminal"))
        .unwrap_or_else(|| PathBuf::from("motcua-terminal-data"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let lang = parse_lang(&args.lang).ok_or("--lang: vi or en")?;
    let dir = args.data_dir.unwrap_or_else(default_dir);
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut config = ClientConfig::new(args.server.trim_end_matches('/'), dir.to_string_lossy());
    config.language = lang.as_str().to_owned();
    config.request_timeout_ms = args.timeout_ms;
    let tokens = Arc::new(FileTokenStore::new(dir.join("session.json")));
    let client = runtime.block_on(Client::open(config, tokens))?;
    let (sender, events) = mpsc::channel();
    client.set_listener(Arc::new(ChannelListener(Mutex::new(sender))));
    let user = if client.is_signed_in() { runtime.block_on(client.current_user())? } else { None };

    let mut terminal = ratatui::init();
    let results = dir.join("ket-qua");
    let result = run(&runtime, &client, &results, &events, &mut terminal, App::new(lang, user));
    ratatui::restore();
    runtime.block_on(client.close());
    result
}

fn run(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    results: &Path,
    events: &mpsc::Receiver<Msg>,
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App,
) -> Result<(), Box<dyn std::error::Error>> {
    let lang: Lang = app.lang;
    let mut queue: VecDeque<_> = app.start().into();
    // The outbox's next pass, when it asked for one.
    let mut next_pass: Option<Instant> = None;
    while !app.quit {
        if let Some(ms) = app.take_retry() {
            next_pass = Some(Instant::now() + Duration::from_millis(ms.saturating_add(100)));
        }
        if queue.is_empty() && next_pass.is_some_and(|at| at <= Instant::now()) {
            next_pass = None;
            queue.push_back(Cmd::SyncDue);
        }
        while let Ok(msg) = events.try_recv() {
            queue.extend(app.on_msg(msg));
        }
        if let Some(cmd) = queue.pop_front() {
            terminal.draw(|f| ui::draw(f, &app, true))?;
            for msg in runtime.block_on(exec::run(client, lang, results, cmd)) {
                queue.extend(app.on_msg(msg));
            }
            continue;
        }
        terminal.draw(|f| ui::draw(f, &app, false))?;
        if event::poll(Duration::from_millis(200))?
            && let Event::Key(k) = event::read()?
            && let Some(key) = key_of(k)
        {
            queue.extend(app.on_key(key));
        }
    }
    Ok(())
}

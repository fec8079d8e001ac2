//! The terminal app end to end: the real `motcua-terminal` binary in a pseudo-terminal
//! (keys in, screen text out through the vt100 emulator) against the real server binary.
//! A citizen registers, searches "giay khai sinh" without diacritics, opens a procedure,
//! fills its form (live validation and a conditional field seen on screen), attaches a file
//! by path, submits while the server is down, syncs once it is back, and sees the dossier
//! sent; an officer moves it over HTTP and the app shows each status in Vietnamese; the
//! citizen answers a supplement request, downloads the result document the officer
//! attached (refused before it is returned) into the app's folder, rates the returned
//! result, opens a notification, lists service points, sends a field report with a photo, signs out and in again; started
//! again in English it is still signed in. On SQLite and PostgreSQL.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motcua_e2e::{Backend, Scratch, binary, free_port};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};

const ROWS: u16 = 40;
const COLS: u16 = 140;
const WAIT: Duration = Duration::from_secs(30);

/// One `motcua-server` process on a fixed port (so it can be stopped and started again).
struct ServerProcess {
    child: Child,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_env(cmd: &mut Command, scratch: &Scratch) {
    cmd.env("DATABASE_URL", &scratch.database_url)
        .env("MOTCUA_BLOB_DIR", scratch.dir.join("blobs"))
        .env("MOTCUA_SMS_DIR", scratch.dir.join("sms"))
        .env("MOTCUA_AUTH_RATE_PER_MIN", "100000")
        .env("RUST_LOG", "warn");
}

async fn start_server(scratch: &Scratch, port: u16) -> ServerProcess {
    let mut cmd = Command::new(binary("motcua-server", "motcua-server"));
    server_env(&mut cmd, scratch);
    cmd.env("MOTCUA_ADDR", format!("127.0.0.1:{port}")).stdout(Stdio::null()).stderr(Stdio::inherit());
    let server = ServerProcess { child: cmd.spawn().expect("start motcua-server") };
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("motcua-server did not become ready");
}

/// An officer of the head office (made with the operators' command); its access token.
async fn officer(scratch: &Scratch, base: &str) -> String {
    let mut child = {
        let mut cmd = Command::new(binary("motcua-server", "motcua-server"));
        server_env(&mut cmd, scratch);
        cmd.args(["user", "add", "--role", "officer", "--branch", "H26.00", "--phone", "0987654321"])
            .args(["--name", "Nguyễn Thị Cán Bộ"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("user add")
    };
    child.stdin.take().expect("stdin").write_all(b"canbo12345\n").expect("password");
    assert!(child.wait().expect("user add").success());
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "0987654321", "password": "canbo12345"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    answer["access_token"].as_str().expect("an access token").to_owned()
}

/// The app in a pseudo-terminal, and the screen as the vt100 emulator sees it.
struct Terminal {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    /// Kept open while the app runs (closing it hangs up the app's terminal).
    _master: Box<dyn portable_pty::MasterPty + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Terminal {
    fn start(base: &str, data_dir: &Path, lang: &str) -> Terminal {
        let pty = native_pty_system()
            .openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_motcua-terminal"));
        cmd.args(["--server", base, "--data-dir"]);
        cmd.arg(data_dir);
        cmd.args(["--timeout-ms", "3000"]);
        cmd.env("TERM", "xterm-256color");
        cmd.env("MOTCUA_LANG", lang);
        let child = pty.slave.spawn_command(cmd).expect("start motcua-terminal");
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).expect("rows"),
            std::num::NonZeroU16::new(COLS).expect("columns"),
            0,
        )));
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let feed = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).process(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().expect("writer");
        Terminal { screen, writer, _master: pty.master, child }
    }

    /// `q` on the menu: the app ends (and lets go of its data folder).
    fn quit(&mut self) {
        self.typed("q");
        let until = Instant::now() + WAIT;
        while self.child.try_wait().expect("status").is_none() {
            assert!(Instant::now() < until, "the app did not quit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).screen().contents()
    }

    /// The selected row (the one marked `›`).
    fn selected(&self) -> String {
        self.text().lines().find(|l| l.contains('›')).unwrap_or_default().to_owned()
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write to the app");
        self.writer.flush().expect("flush");
    }

    /// Types text one key at a time (the app saves and checks each change).
    fn typed(&mut self, s: &str) {
        for c in s.chars() {
            self.send(&c.to_string());
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    fn key(&mut self, name: &str) {
        let bytes = match name {
            "enter" => "\r",
            "esc" => "\x1b",
            "up" => "\x1b[A",
            "down" => "\x1b[B",
            "right" => "\x1b[C",
            "left" => "\x1b[D",
            "backspace" => "\x7f",
            other => other,
        };
        self.send(bytes);
        // A lone Esc is told apart from a key sequence by the pause after it.
        std::thread::sleep(Duration::from_millis(if name == "esc" { 150 } else { 30 }));
    }

    fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + WAIT;
        loop {
            let text = self.text();
            if check(&text) && !text.contains("Đang xử lý…") {
                return text;
            }
            assert!(Instant::now() < until, "not on screen within {WAIT:?}: {what}\n---\n{text}\n---");
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |t| t.contains(needle))
    }

    fn wait_gone(&self, needle: &str) -> String {
        self.wait_until(&format!("no more {needle:?}"), |t| !t.contains(needle))
    }

    /// Moves the selection down to the row whose text has `label`.
    fn select(&mut self, label: &str) {
        for _ in 0..60 {
            let row = self.wait_until("a marked row", |t| t.contains('›'));
            let row = row.lines().find(|l| l.contains('›')).unwrap_or_default().to_owned();
            if row.contains(label) {
                return;
            }
            self.key("down");
            // Until another row is marked (a half-drawn frame, with no mark, does not count).
            let until = Instant::now() + WAIT;
            loop {
                let now = self.selected();
                if (!now.is_empty() && now != row) || Instant::now() > until {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("no row {label:?} below the selection:\n{}", self.text());
    }

    /// Selects the row `label`, types `value` into it and leaves the field.
    fn fill(&mut self, label: &str, value: &str) {
        self.select(label);
        self.key("enter");
        self.wait_for("▏");
        self.typed(value);
        self.wait_until(&format!("{value}▏"), |t| t.contains(&format!("{value}▏")));
        self.key("enter");
        self.wait_gone("▏");
    }
}

/// A small real JPEG (the server decodes photos to strip their metadata).
fn jpeg() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([200, (x * 7) as u8, (y * 9) as u8]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut out).encode_image(&pixels).expect("encode");
    out
}

fn pdf(dir: &Path) -> PathBuf {
    let path = dir.join("to-khai.pdf");
    std::fs::write(&path, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .expect("a PDF to attach");
    path
}

async fn the_citizens_journey_in_a_terminal(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = start_server(&scratch, port).await;
    let app_dir = scratch.dir.join("app");
    let mut term = Terminal::start(&base, &app_dir, "vi");

    // Register: the code comes by SMS (the development sink writes it to a file).
    term.wait_for("Đăng ký tài khoản");
    term.typed("2");
    term.wait_for("Số CCCD (12 số)");
    for value in ["001203004567", "0912345678", "Nguyễn Văn An", "matkhau123"] {
        term.typed(value);
        term.key("enter");
    }
    term.wait_for("Mã xác minh (6 số)");
    let sms = std::fs::read_to_string(scratch.dir.join("sms/0912345678.txt")).expect("an SMS to the phone");
    let code = sms.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code in the SMS");
    term.typed(code);
    term.key("enter");
    term.wait_for("Trang chính");

    // Search without diacritics; open the procedure's page.
    term.typed("1");
    term.wait_for("Tìm: ");
    term.typed("giay khai sinh");
    term.wait_for("Cấp bản sao trích lục hộ tịch");
    term.select("Cấp bản sao trích lục hộ tịch");
    term.key("enter");
    let page = term.wait_for("Giấy tờ cần có");
    assert!(page.contains("Lệ phí (nộp trực tuyến): 8.000 đ"), "{page}");
    assert!(page.contains("Thời hạn giải quyết: Trong ngày"), "{page}");
    assert!(page.contains("Tờ khai yêu cầu cấp bản sao trích lục hộ tịch theo mẫu (bản chính, 1)"), "{page}");

    // The form: every change is saved and checked by the core, its message on screen.
    term.typed("n");
    term.wait_for("mục cần sửa");
    term.fill("Họ, chữ đệm và tên người yêu cầu", "Nguyễn Văn An");
    term.select("Số định danh cá nhân");
    term.key("enter");
    term.typed("0012");
    term.wait_for("Số căn cước không hợp lệ");
    term.typed("03004567");
    term.wait_gone("Số căn cước không hợp lệ");
    term.key("enter");
    term.fill("Số điện thoại liên hệ", "0912345678");
    term.fill("Nơi cư trú — Tỉnh/thành phố", "Hà Nội");
    term.fill("Nơi cư trú — Phường/xã", "Phường Hoàn Kiếm");
    term.fill("Nơi cư trú — Số nhà, đường", "12 Hàng Bài");
    // A field shown only in some cases: the core says when (filed by a representative).
    term.select("Người nộp hồ sơ là");
    assert!(!term.text().contains("Văn bản ủy quyền (có chứng thực)"));
    term.key("right");
    term.wait_for("Chính người yêu cầu");
    term.key("right");
    term.wait_for("Đính kèm: Văn bản ủy quyền (có chứng thực)");
    term.key("left");
    term.wait_gone("Đính kèm: Văn bản ủy quyền (có chứng thực)");
    term.wait_for("Chính người yêu cầu");
    term.select("Loại trích lục");
    term.key("right");
    term.wait_until("a kind of extract", |t| {
        t.lines().any(|l| l.contains("Loại trích lục") && l.contains("Trích lục khai sinh"))
    });
    term.fill("Họ tên người được cấp trích lục", "Nguyễn Văn Bình");
    term.fill("Ngày sinh người được cấp", "01/02/2020");
    term.wait_for("01/02/2020");
    term.fill("Cơ quan đã đăng ký", "UBND phường Hoàn Kiếm");
    term.fill("Số bản sao", "2");
    let file = pdf(&scratch.dir);
    term.select("Đính kèm: Tờ khai");
    term.key("enter");
    term.wait_for("đường dẫn tệp:");
    term.typed(&file.to_string_lossy());
    term.key("enter");
    term.wait_for("to-khai.pdf");
    term.select("Hình thức nhận kết quả");
    term.key("right");
    term.select("Tôi cam đoan");
    term.key(" ");
    term.wait_for("Đã điền đủ, có thể nộp (n).");

    // Submitted while the server is down: it waits in the outbox.
    drop(server);
    term.typed("n");
    let outbox = term.wait_for("Chờ mạng, thử lại lúc");
    assert!(outbox.contains("Hộp thư đi") && outbox.contains("Cấp bản sao trích lục hộ tịch"), "{outbox}");

    // The server is back: one sync sends it once (the app may also have retried by itself).
    let _server = start_server(&scratch, port).await;
    term.typed("s");
    term.wait_until("the item shown as sent", |t| t.lines().any(|l| l.contains("trích lục") && l.contains("Đã gửi")));
    assert_eq!(scratch.count("SELECT COUNT(*) FROM dossiers").await, 1);

    // My dossiers: filed; an officer receives it, starts it; the app says so in Vietnamese.
    term.key("esc");
    term.wait_for("Trang chính");
    term.typed("4");
    let mine = term.wait_for("Trạng thái: Đã nộp");
    let code = mine
        .lines()
        .find(|l| l.contains("Cấp bản sao trích lục hộ tịch"))
        .and_then(|l| l.split_whitespace().find(|w| w.contains('-')))
        .expect("the dossier's code")
        .to_owned();
    let officer = officer(&scratch, &base).await;
    let http = reqwest::Client::new();
    let queue: Value = http
        .get(format!("{base}/api/v1/dossiers"))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("queue")
        .json()
        .await
        .expect("json");
    let id = queue["items"][0]["id"].as_str().expect("the dossier in the queue").to_owned();
    for action in ["receive", "start_processing"] {
        let r = http
            .post(format!("{base}/api/v1/dossiers/{id}/transitions"))
            .bearer_auth(&officer)
            .json(&json!({"action": action}))
            .send()
            .await
            .expect("transition");
        assert_eq!(r.status(), 200, "{action}");
    }
    term.typed("r");
    let moved = term.wait_for("Trạng thái: Đang xử lý");
    assert!(!moved.contains("in_processing"), "{moved}");
    let due = moved.lines().find(|l| l.contains("Hạn: ")).expect("a due date line");
    assert!(
        due.split("Hạn: ")
            .nth(1)
            .is_some_and(|d| d.as_bytes().get(2) == Some(&b'/') && d.as_bytes().get(5) == Some(&b'/')),
        "the due date is dd/mm/yyyy: {due}"
    );
    term.key("enter");
    let detail = term.wait_for("Quá trình xử lý");
    for step in ["Đã nộp", "Đã tiếp nhận", "Đang xử lý"] {
        assert!(detail.contains(step), "{step}: {detail}");
    }
    assert!(detail.contains(&code), "{detail}");

    // The officer asks for a supplement; the citizen answers it in the form, offline
    // first, through the outbox, once.
    let ask = json!({"action": "request_supplement", "note": "Thiếu tờ khai có chữ ký của người yêu cầu"});
    let r = http
        .post(format!("{base}/api/v1/dossiers/{id}/transitions"))
        .bearer_auth(&officer)
        .json(&ask)
        .send()
        .await
        .expect("transition");
    assert_eq!(r.status(), 200, "request_supplement");
    term.typed("r");
    term.wait_for("Trạng thái: Yêu cầu bổ sung");
    term.wait_for("Thiếu tờ khai có chữ ký của người yêu cầu");
    term.typed("b");
    term.wait_for("Tờ khai  ·  ");
    let signed = scratch.dir.join("to-khai-co-chu-ky.pdf");
    std::fs::copy(&file, &signed).expect("a second PDF");
    term.select("Đính kèm: Tờ khai");
    term.key("enter");
    term.wait_for("đường dẫn tệp:");
    term.typed(&signed.to_string_lossy());
    term.key("enter");
    term.wait_for("to-khai-co-chu-ky.pdf");
    term.typed("n");
    term.wait_until("the answer sent", |t| t.lines().any(|l| l.contains("trả lời bổ sung") && l.contains("Đã gửi")));
    term.key("esc");
    term.wait_for("Trang chính");
    term.typed("4");
    term.wait_for("Trạng thái: Đang xử lý");
    term.key("enter");
    term.wait_for("Bổ sung hồ sơ");

    // Approved: no result document yet, then one the officer attaches, downloadable once
    // the result is returned; the citizen keeps it in the app's folder. Then rates, once.
    let transition = |action: &'static str| {
        let request = http
            .post(format!("{base}/api/v1/dossiers/{id}/transitions"))
            .bearer_auth(&officer)
            .json(&json!({"action": action}));
        async move {
            let r = request.send().await.expect("transition");
            assert_eq!(r.status(), 200, "{action}");
        }
    };
    transition("approve").await;
    term.typed("k");
    term.wait_for("Hồ sơ này chưa có văn bản kết quả.");
    let decision = b"%PDF-1.7\n% Trich luc khai sinh ban chinh\n%%EOF\n".to_vec();
    let stored: Value = http
        // ?name=Trích lục khai sinh.pdf
        .post(format!("{base}/api/v1/attachments?name=Tr%C3%ADch%20l%E1%BB%A5c%20khai%20sinh.pdf"))
        .bearer_auth(&officer)
        .header("Content-Type", "application/octet-stream")
        .body(decision.clone())
        .send()
        .await
        .expect("result upload")
        .json()
        .await
        .expect("json");
    let attachment_id = stored["id"].as_str().expect("the upload's id").to_owned();
    let r = http
        .post(format!("{base}/api/v1/dossiers/{id}/result"))
        .bearer_auth(&officer)
        .json(&json!({"attachment_id": attachment_id}))
        .send()
        .await
        .expect("attach the result");
    assert_eq!(r.status(), 200, "attach the result");
    term.typed("k");
    term.wait_for("Kết quả chưa được trả: tải được sau khi cơ quan trả kết quả.");
    assert!(!app_dir.join("ket-qua").join("Trích lục khai sinh.pdf").exists());
    transition("return_result").await;
    term.typed("r");
    term.wait_for("Trạng thái: Đã trả kết quả");
    term.typed("k");
    let saved = term.wait_for("Văn bản kết quả đã lưu:");
    let kept = app_dir.join("ket-qua").join("Trích lục khai sinh.pdf");
    // The path on screen (a long one may wrap): compared without the white space.
    let squash = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert!(squash(&saved).contains(&squash(&kept.to_string_lossy())), "{saved}");
    assert_eq!(std::fs::read(&kept).expect("the saved result"), decision);
    term.typed("d");
    term.wait_for("Số sao (1-5)");
    term.typed("5");
    term.key("enter");
    term.typed("Nhanh gọn");
    term.key("enter");
    term.wait_for("Đánh giá: 5/5 Nhanh gọn");

    // Notifications: each move of the dossier; opening one opens the dossier.
    term.key("esc");
    term.key("esc");
    term.wait_for("Trang chính");
    term.typed("5");
    let inbox = term.wait_until("notifications", |t| t.contains("Thông báo") && t.contains("• "));
    assert!(!inbox.contains("Chưa có thông báo."), "{inbox}");
    term.key("enter");
    term.wait_for("Quá trình xử lý");
    term.key("esc");
    term.key("esc");

    // Service points nearest the typed position (the default: Hoàn Kiếm lake).
    term.wait_for("Trang chính");
    term.typed("6");
    term.wait_for("Vị trí (vĩ độ, kinh độ)");
    term.key("enter");
    let points = term.wait_for("Trung tâm Phục vụ hành chính công Hà Nội");
    assert!(points.contains(" km"), "{points}");
    term.key("esc");

    // A field report: typed, a photo by path, sent through the outbox.
    term.wait_for("Trang chính");
    term.typed("7");
    term.wait_for("Loại sự việc (mã)");
    term.typed("rac-thai");
    term.key("enter");
    term.typed("Rác thải đổ trộm ở đầu ngõ từ tối qua, bốc mùi.");
    term.key("enter");
    term.typed("12 Hàng Bài, Hoàn Kiếm");
    term.key("enter");
    term.typed("21.0245");
    term.key("enter");
    term.typed("105.8412");
    term.key("enter");
    let photo = scratch.dir.join("rac.jpg");
    std::fs::write(&photo, jpeg()).expect("a photo");
    term.typed(&photo.to_string_lossy());
    term.key("enter");
    term.wait_for("Ảnh đã thêm: rac.jpg");
    term.key("down");
    term.key("down");
    term.wait_until("the send button selected", |t| t.lines().any(|l| l.contains('›') && l.contains("Gửi phản ánh")));
    term.key("enter");
    term.wait_for("Trang chính");
    let until = Instant::now() + WAIT;
    while scratch.count("SELECT COUNT(*) FROM reports").await == 0 {
        assert!(Instant::now() < until, "the report did not reach the server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    term.typed("8");
    let reports = term.wait_for("rac-thai");
    assert!(reports.contains("Đã tiếp nhận"), "{reports}");
    term.key("esc");

    // Sign out (the device forgets the citizen's data), a wrong password is said so,
    // the right one brings the dossiers back from the server.
    term.wait_for("Trang chính");
    term.typed("0");
    term.wait_for("Đã đăng xuất.");
    term.typed("1");
    term.wait_for("Số điện thoại hoặc số CCCD");
    term.typed("0912345678");
    term.key("enter");
    term.typed("sai-mat-khau");
    term.key("enter");
    term.wait_until("a refusal in Vietnamese", |t| t.contains("Đăng nhập") && t.contains("mật khẩu"));
    for _ in 0.."sai-mat-khau".len() {
        term.key("backspace");
    }
    term.typed("matkhau123");
    term.key("enter");
    term.wait_for("Trang chính");
    term.typed("4");
    term.wait_for(&code);
    term.key("esc");
    term.wait_for("Trang chính");
    term.quit();

    // Started again, in English: still signed in, the same dossier in English words.
    let mut term = Terminal::start(&base, &app_dir, "en");
    term.wait_for("Home  ·  Nguyễn Văn An");
    term.typed("4");
    let mine = term.wait_for(&code);
    assert!(mine.contains("Status: Result returned"), "{mine}");
    term.key("esc");
    term.wait_for("Home  ·  ");
    term.quit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_journey_in_a_terminal_on_sqlite() {
    the_citizens_journey_in_a_terminal(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_journey_in_a_terminal_on_postgres() {
    the_citizens_journey_in_a_terminal(Backend::Postgres).await;
}

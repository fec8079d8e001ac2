//! The `motcua-server` binary: serves the API (default), or runs an operator command
//! (`user add`, `migrate`, `openapi`).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use motcua_domain::ids::{CitizenId, is_valid_email, normalize_phone};
use motcua_domain::wire::Role;
use motcua_server::auth::{self, CreateUserError, NewUser};
use motcua_server::config::Config;
use motcua_server::db::Db;

#[derive(Parser)]
#[command(
    name = "motcua-server",
    version,
    about = "The motcua backend (configured by environment variables, see README.md)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply migrations and load the seed, then exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff (or citizen) account. The password is read from standard input
    /// unless --password is given.
    Add {
        #[arg(long, value_parser = ["citizen", "officer", "admin"])]
        role: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        citizen_id: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Branch code (e.g. H26.01), for officers.
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!("{}", motcua_server::app::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Serve => serve(config).await,
        Command::Migrate => {
            motcua_server::telemetry::init_logs(config.log_json);
            let db = Db::connect(&config.database_url, 2).await?;
            motcua_server::app::AppState::new(config, db.clone()).await?;
            db.close().await;
            Ok(())
        }
        Command::User { command: UserCommand::Add { role, phone, name, citizen_id, email, branch, password } } => {
            let role = Role::parse(&role).context("role")?;
            let phone = normalize_phone(&phone).context("--phone is not a Vietnamese phone number")?;
            let citizen_id = citizen_id
                .map(|c| CitizenId::parse(&c).map(|c| c.as_str().to_owned()))
                .transpose()
                .ok()
                .context("--citizen-id is not a valid CCCD")?;
            if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
                bail!("--email is not a valid address");
            }
            if role == Role::Officer && branch.is_none() {
                bail!("an officer needs --branch");
            }
            let password = match password {
                Some(p) => p,
                None => std::io::stdin().lock().lines().next().context("no password on standard input")??,
            };
            if let Some(problem) = auth::routes::password_errors("password", &password) {
                bail!("the password is too weak ({:?}): at least 8 characters with a letter and a digit", problem.code);
            }
            let db = Db::connect(&config.database_url, 2).await?;
            motcua_server::app::AppState::new(config, db.clone()).await?;
            let new = NewUser {
                citizen_id,
                phone,
                full_name: name,
                email,
                password_hash: auth::passwords::hash(password).await?,
                role,
                branch_code: branch,
            };
            let result = auth::create_user(&db, &new).await;
            db.close().await;
            match result {
                Ok(id) => {
                    println!("{id}");
                    Ok(())
                }
                Err(CreateUserError::Exists) => bail!("an account with this phone or citizen id already exists"),
                Err(CreateUserError::UnknownBranch) => bail!("no branch has this code"),
                Err(CreateUserError::Db(e)) => Err(e.into()),
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    motcua_server::telemetry::init_logs(config.log_json);
    let started = std::time::Instant::now();
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    let addr = config.addr;
    let state = motcua_server::app::AppState::new(config, db.clone()).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let janitor = tokio::spawn(motcua_server::janitor::run(state.clone()));
    tracing::info!(addr = %listener.local_addr()?, backend = db.backend(), ready_in_ms = started.elapsed().as_millis() as u64, "motcua-server listening");
    motcua_server::serve(listener, state, shutdown_signal()).await?;
    janitor.abort();
    db.close().await;
    tracing::info!("motcua-server stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: draining in-flight requests");
}

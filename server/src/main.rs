//! The `motcua-server` binary: serves the API (default), or runs an operator command
//! (`user add`, `keys rotate`, `migrate`, `openapi`).

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
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Issue an Open311 `api_key` for a partner app: printed once, only its hash is stored.
    Open311Key {
        /// The partner's name (shown to operators).
        #[arg(long)]
        partner: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key (every process signs with it after its next reload, within
    /// MOTCUA_KEY_RELOAD_SECS) and retire the keys superseded longer ago than an access
    /// token lives. Prints the new key id.
    Rotate,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff (or citizen) account. The password is read from the first line of
    /// standard input, or from MOTCUA_USER_PASSWORD (for automation); never from the
    /// command line, where it would show in the process list and the shell history.
    Add {
        #[arg(long, value_parser = ["citizen", "officer", "admin", "agency_officer"])]
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
        /// Agency code (e.g. HN.SXD, see server/seed/agencies.json), for agency officers.
        #[arg(long)]
        agency: Option<String>,
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
        Command::Keys { command: KeysCommand::Rotate } => {
            let db = Db::connect(&config.database_url, 2).await?;
            motcua_server::app::AppState::new(config.clone(), db.clone()).await?;
            let keep = config.access_token_ttl + std::time::Duration::from_secs(60);
            let rotated = motcua_server::auth::keys::rotate(&db, chrono::Utc::now(), keep).await;
            db.close().await;
            let (kid, retired) = rotated?;
            for old in retired {
                eprintln!("retired {old}");
            }
            println!("{kid}");
            Ok(())
        }
        Command::Open311Key { partner } => {
            let partner = partner.trim().to_owned();
            if partner.is_empty() || partner.chars().count() > 100 {
                bail!("--partner must be 1 to 100 characters");
            }
            let db = Db::connect(&config.database_url, 2).await?;
            let issued = motcua_server::reports::issue_key(&db, &partner, chrono::Utc::now()).await;
            db.close().await;
            println!("{}", issued?.api_key);
            Ok(())
        }
        Command::User { command: UserCommand::Add { role, phone, name, citizen_id, email, branch, agency } } => {
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
            if (role == Role::AgencyOfficer) != agency.is_some() {
                bail!("an agency officer needs --agency, and only an agency officer has one");
            }
            if role == Role::AgencyOfficer && branch.is_some() {
                bail!("an agency officer belongs to an agency, not to a branch");
            }
            let password = match std::env::var("MOTCUA_USER_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => std::io::stdin().lock().lines().next().context("no password on standard input")??,
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
                agency_code: agency,
            };
            let result = auth::create_user(&db, &new).await;
            db.close().await;
            match result {
                Ok(id) => {
                    println!("{id}");
                    Ok(())
                }
                Err(CreateUserError::Exists) => bail!("an account with this phone or citizen id already exists"),
                Err(CreateUserError::UnknownBranch) => bail!("no branch or agency has this code"),
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
    if let Some(metrics_addr) = state.config.metrics_addr {
        let metrics =
            tokio::net::TcpListener::bind(metrics_addr).await.with_context(|| format!("binding {metrics_addr}"))?;
        tracing::info!(addr = %metrics.local_addr()?, "metrics listening");
        let router = motcua_server::app::metrics_router(state.metrics.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let janitor = tokio::spawn(motcua_server::janitor::run(state.clone()));
    let push_workers = motcua_server::push::delivery::start(&state)?;
    tracing::info!(addr = %listener.local_addr()?, backend = db.backend(), ready_in_ms = started.elapsed().as_millis() as u64, "motcua-server listening");
    motcua_server::serve(listener, state, shutdown_signal()).await?;
    janitor.abort();
    if let Some(workers) = push_workers {
        workers.stop(std::time::Duration::from_secs(15)).await;
    }
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

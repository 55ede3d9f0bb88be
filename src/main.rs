//! `hotline`: the command line. `serve` runs the server, `check-config` checks the
//! configuration, `migrate` brings the database schema up to date.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use hotline::api::{self, AppState};
use hotline::cases::deadline::DeadlinePolicy;
use hotline::cases::Store;
use hotline::config::{self, Config};

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "12345/12319 hotline contact centre and case store"
)]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// Main configuration file.
    #[arg(long, short, default_value = config::DEFAULT_CONFIG)]
    config: PathBuf,
}

#[derive(clap::Args)]
struct Overrides {
    /// SIP listen address (UDP and TCP).
    #[arg(long, env = "HOTLINE_SIP_ADDR")]
    sip_addr: Option<SocketAddr>,
    /// HTTP listen address.
    #[arg(long, env = "HOTLINE_HTTP_ADDR")]
    http_addr: Option<SocketAddr>,
    /// RTP port range, e.g. 20000-29999.
    #[arg(long, env = "HOTLINE_RTP_PORTS")]
    rtp_ports: Option<String>,
    /// Data directory (SQLite database, recordings).
    #[arg(long, env = "HOTLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… or sqlite:…; default SQLite at DATA_DIR/hotline.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// redis://… for several nodes (optional).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Check the configuration: exit 0 with a summary, or exit 1 naming every problem.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print the digest HA1 hashes of a softphone password, for `ha1_md5` / `ha1_sha256` in the
    /// agents' configuration, or `sip_ha1_md5` / `sip_ha1_sha256` of a supervisor's softphone
    /// (so the password itself need not be written down).
    SipHa1 {
        /// The SIP user name (an agent's id, or a supervisor's extension).
        #[arg(long)]
        user: String,
        /// The digest realm (`[sip].realm`, default "hotline").
        #[arg(long, default_value = "hotline")]
        realm: String,
        /// The password; read from the environment to keep it out of shell history.
        #[arg(long, env = "HOTLINE_SIP_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        overrides: Overrides,
    },
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hotline: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Cmd::CheckConfig { config } => return check_config(&config.config),
        Cmd::SipHa1 {
            user,
            realm,
            password,
        } => {
            let ha1 = hotline::sip::auth::Ha1::from_password(&user, &realm, &password);
            println!("ha1_md5 = \"{}\"", ha1.md5.unwrap_or_default());
            println!("ha1_sha256 = \"{}\"", ha1.sha256.unwrap_or_default());
            return ExitCode::SUCCESS;
        }
        Cmd::Serve { config, overrides } => rt.block_on(serve(&config.config, overrides)),
        Cmd::Migrate { config, overrides } => rt.block_on(migrate(&config.config, overrides)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread that allocates its own malloc arena (up to 8 per core), and memory
/// freed in one arena is not reused by another; a server whose tokio workers all touch the same
/// data keeps several arenas' worth of peaks resident. One arena: 10,000 registered softphones
/// leave 71 MB resident instead of 72–103 MB with two and 118 MB with glibc's default, at no
/// measurable cost in call setup (bench/RESULTS.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called once, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn check_config(path: &Path) -> ExitCode {
    match config::load(path) {
        Ok(loaded) => match check_prompts(&loaded.config) {
            Ok(line) => {
                println!("{}\n  {line}", summary(&loaded.config, path));
                ExitCode::SUCCESS
            }
            Err(problems) => {
                for problem in problems.lines() {
                    eprintln!("{}: {problem}", path.display());
                }
                ExitCode::FAILURE
            }
        },
        Err(errors) => {
            eprintln!("{}: {errors}", path.display());
            ExitCode::FAILURE
        }
    }
}

/// The prompts callers will hear: every file loads, and every prompt of the manifest exists in
/// the configured language.
fn check_prompts(c: &Config) -> Result<String, String> {
    use hotline::media::prompt::{Manifest, PromptLibrary};
    let dir = &c.media.prompts_dir;
    let lib = PromptLibrary::load(dir).map_err(|e| format!("media.prompts_dir: {e}"))?;
    let manifest_path = dir.join("manifest.toml");
    let manifest = Manifest::load(&manifest_path).map_err(|e| format!("media.prompts_dir: {e}"))?;
    let lang = &c.media.language;
    let mut problems = Vec::new();
    // Each number's greeting is a prompt of the manifest.
    for (i, n) in c.numbers.iter().enumerate() {
        let greeting = n.greeting_prompt();
        if manifest.get(&greeting).is_none() {
            problems.push(format!(
                "numbers[{i}].greeting: prompt {greeting:?} is not in {}",
                manifest_path.display()
            ));
        }
    }
    // Every prompt in the configured language, and in the other one when a number offers it.
    let mut langs = vec![lang.as_str()];
    if c.numbers.iter().any(|n| n.language_key.is_some()) {
        langs.push(hotline::ivr::other_language(lang));
    }
    let all_missing = lib.missing(&manifest);
    for l in langs {
        let missing: Vec<&str> = all_missing
            .iter()
            .filter(|(ml, _)| ml == l)
            .map(|(_, n)| n.as_str())
            .collect();
        if !missing.is_empty() {
            let why = if l == lang {
                String::new()
            } else {
                " (a number's language_key offers it)".to_string()
            };
            problems.push(format!(
                "media.language: {} prompt(s) of {} are missing in {}/{l}/{why}: {}",
                missing.len(),
                manifest_path.display(),
                dir.display(),
                missing.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    Ok(format!(
        "prompts: {} ({}), languages {}",
        lib.names(lang).len(),
        lang,
        lib.languages().join(", ")
    ))
}

fn summary(c: &Config, path: &Path) -> String {
    let mut s = format!("{}: configuration OK\n", path.display());
    s += &format!(
        "  server: SIP {}, HTTP {}, RTP {}, data {}\n",
        c.server.sip_addr,
        c.server.http_addr,
        c.server.rtp_ports,
        c.server.data_dir.display()
    );
    s += &format!(
        "  numbers: {}\n",
        c.numbers
            .iter()
            .map(|n| format!("{} → queue {}", n.number, n.queue))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s += &format!(
        "  trunks: {}; queues: {}; agents: {}; API users: {}; departments: {}; grid cells: {}\n",
        c.trunks.len(),
        c.queues.len(),
        c.agents.len(),
        c.users.len(),
        c.departments.len(),
        c.grid_cells.len()
    );
    s += &format!(
        "  calendar: {} working periods, {} holidays, {} make-up working days; {} deadline rules",
        c.calendar.working_hours.len(),
        c.calendar.holidays.len(),
        c.calendar.makeup_workdays.len(),
        c.deadlines.by_type.len() + c.deadlines.by_category.len()
    );
    if c.has_demo_credentials() {
        s += "\n  warning: demo credentials are configured (see README: replacing the demo credentials)";
    }
    s
}

/// Loads the configuration and applies command-line/environment overrides.
fn load_config(path: &Path, o: Overrides) -> anyhow::Result<Config> {
    let mut c = config::load(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .config;
    let s = &mut c.server;
    if let Some(v) = o.sip_addr {
        s.sip_addr = v;
    }
    if let Some(v) = o.http_addr {
        s.http_addr = v;
    }
    if let Some(v) = o.rtp_ports {
        config::parse_port_range(&v).map_err(|e| anyhow::anyhow!("--rtp-ports: {e}"))?;
        s.rtp_ports = v;
    }
    if let Some(v) = o.data_dir {
        s.data_dir = v;
    }
    if let Some(v) = o.database_url.filter(|v| !v.is_empty()) {
        if !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|p| v.starts_with(p))
        {
            anyhow::bail!("DATABASE_URL / --database-url must start with postgres://, postgresql:// or sqlite:");
        }
        s.database_url = Some(v);
    }
    if let Some(v) = o.redis_url.filter(|v| !v.is_empty()) {
        s.redis_url = Some(v);
    }
    Ok(c)
}

async fn open_store(c: &Config) -> anyhow::Result<Store> {
    let url = match &c.server.database_url {
        Some(u) => u.clone(),
        None => Store::sqlite_url_for(&c.server.data_dir)
            .with_context(|| format!("creating data directory {}", c.server.data_dir.display()))?,
    };
    let policy = DeadlinePolicy::from_config(c).map_err(|e| anyhow::anyhow!("calendar: {e}"))?;
    let store = Store::connect(&url, policy)
        .await
        .with_context(|| format!("opening the case store ({})", redact(&url)))?;
    let applied = store.migrate().await.context("migrating the case store")?;
    if applied > 0 {
        tracing::info!(applied, database = store.kind(), "migrations applied");
    }
    store
        .sync_config(c)
        .await
        .context("writing configured reference data")?;
    Ok(store)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

async fn migrate(path: &Path, o: Overrides) -> anyhow::Result<()> {
    let c = load_config(path, o)?;
    let store = open_store(&c).await?;
    println!("{} case store is up to date", store.kind());
    store.close().await;
    Ok(())
}

async fn serve(path: &Path, o: Overrides) -> anyhow::Result<()> {
    let mut c = load_config(path, o)?;
    if c.has_demo_credentials() {
        tracing::warn!(
            "demo credentials are configured (demo-* tokens or passwords); replace them before \
             real use: see README.md, 'Replacing the demo credentials'"
        );
    }
    let store = open_store(&c).await?;
    let mut credentials = store
        .sip_credentials(&c.sip.realm)
        .await
        .context("loading softphone credentials")?;
    // Supervisors' softphones register too (they are called to listen in), but are no agents.
    credentials.extend(c.user_softphones());
    for u in &mut c.users {
        // Hashed above; the clear password is not kept.
        u.sip_password = None;
    }
    let sip_cfg = hotline::sip::endpoint::EndpointConfig::new(
        c.sip.clone(),
        c.server.sip_addr,
        c.numbers.clone(),
        c.trunks.clone(),
    );
    let media = start_media(&c)?;
    let (call_events_tx, call_events) = tokio::sync::mpsc::unbounded_channel();
    let sip = hotline::sip::server::start_with_media(
        sip_cfg,
        Box::new(credentials),
        Some(hotline::sip::server::CallHooks {
            media: Box::new(media.call_media),
            events: call_events_tx,
        }),
    )
    .await
    .with_context(|| format!("binding SIP on {}", c.server.sip_addr))?;
    let calls = hotline::call::start(
        hotline::call::CallsConfig::from_config(&c),
        hotline::call::CallsDeps {
            sip: sip.clone(),
            store: Some(store.clone()),
            engine: media.engine.clone(),
            prompts: media.prompts,
            recorder: Some(media.recorder.clone()),
            legs: media.legs,
            media_events: media.media_events,
            recorder_events: media.recorder_events,
            sip_events: call_events,
        },
    );
    // Notifications leave through the configured notifier; deadlines are swept.
    let background = hotline::cases::notify::start(store.clone(), &c.notifier, &c.urban)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http_addr = c.server.http_addr;
    let listener = tokio::net::TcpListener::bind(http_addr)
        .await
        .with_context(|| format!("binding HTTP on {http_addr}"))?;
    tracing::info!(
        http = %listener.local_addr()?,
        sip = %sip.local_addr(),
        database = store.kind(),
        "hotline serving"
    );
    let app = api::router(
        AppState::new(store.clone(), c)
            .with_sip(sip.clone())
            .with_calls(calls.clone()),
    );
    // With the client's address, which the session login counts failures by.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("HTTP server")?;
    match tokio::time::timeout(std::time::Duration::from_secs(2), sip.shutdown()).await {
        Ok(Ok(n)) if n > 0 => tracing::info!(calls = n, "calls in progress hung up"),
        _ => {}
    }
    // The calls just ended reach the call task; their records are written before the store
    // closes.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    calls.close().await;
    background.stop().await;
    // Recordings of the calls just ended are finished and their headers written.
    let (engine, recorder) = (media.engine, media.recorder);
    let _ = tokio::task::spawn_blocking(move || {
        engine.shutdown();
        recorder.shutdown();
    })
    .await;
    store.close().await;
    tracing::info!("hotline stopped");
    Ok(())
}

/// The media side of `serve`: engine, prompts, recorder, and the SIP endpoint's window onto
/// them.
struct Media {
    engine: hotline::media::engine::MediaEngine,
    recorder: hotline::media::recorder::Recorder,
    prompts: hotline::media::prompt::PromptLibrary,
    call_media: hotline::call::CallMedia,
    legs: tokio::sync::mpsc::UnboundedReceiver<hotline::call::LegEvent>,
    media_events: tokio::sync::mpsc::UnboundedReceiver<hotline::media::engine::MediaEvent>,
    recorder_events: tokio::sync::mpsc::UnboundedReceiver<hotline::media::recorder::RecorderEvent>,
}

fn start_media(c: &Config) -> anyhow::Result<Media> {
    use hotline::media::{engine, prompt, recorder};
    use tokio::sync::mpsc::unbounded_channel;
    let ports = c
        .server
        .rtp_range()
        .map_err(|e| anyhow::anyhow!("server.rtp_ports: {e}"))?;
    let public_ip = hotline::call::media_address(c);
    let (media_tx, media_events) = unbounded_channel();
    let engine = engine::MediaEngine::start(
        engine::MediaConfig {
            bind_ip: c.server.sip_addr.ip(),
            public_ip,
            ports,
            shards: c.media.shards,
            rtp_timeout: std::time::Duration::from_secs(c.media.rtp_timeout_secs.into()),
            jitter: hotline::media::rtp::jitter::JitterConfig {
                playout_delay_frames: c.media.jitter_delay_frames,
                ..Default::default()
            },
        },
        media_tx,
    )
    .context("starting the media engine")?;
    let prompts = match prompt::PromptLibrary::load(&c.media.prompts_dir) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "prompts not loaded: callers will hear silence");
            prompt::PromptLibrary::empty()
        }
    };
    let (rec_tx, recorder_events) = unbounded_channel();
    let recorder = recorder::Recorder::start(
        recorder::RecorderConfig {
            root: c.server.data_dir.join("recordings"),
            flush_interval: std::time::Duration::from_secs(1),
            chunk_frames: 10,
            queue_chunks: 8192,
        },
        rec_tx,
    )
    .context("starting the recorder")?;
    let (leg_tx, legs) = unbounded_channel();
    let call_media = hotline::call::CallMedia::new(engine.clone(), public_ip, leg_tx);
    Ok(Media {
        engine,
        recorder,
        prompts,
        call_media,
        legs,
        media_events,
        recorder_events,
    })
}

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
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

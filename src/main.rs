//! The `datagate` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use datagate::config::Config;
use datagate::server::{self, AppState};

// mimalloc rather than glibc's malloc: a data request allocates and frees buffers of
// hundreds of kilobytes, which glibc serves with consolidation work on every free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "datagate",
    version,
    about = "Archive datasets over OPeNDAP, EDR, WMS and Zarr"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format: `text` (stderr) or `json` (one object a line, stdout); also
    /// `DATAGATE_LOG_FORMAT`.
    #[arg(long, global = true)]
    log_format: Option<datagate::logging::LogFormat>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve directories of files, a catalog file, or (with neither) the demo catalog.
    Serve {
        /// Directories (or files) whose readable datasets are all served; object-store
        /// prefixes (`s3://bucket/prefix/`, `gs://`, `az://`, listable `http(s)://`)
        /// are served like directories.
        paths: Vec<PathBuf>,
        /// A TOML configuration naming datasets and settings.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the configuration), e.g. 0.0.0.0:8080.
        #[arg(long, short)]
        bind: Option<String>,
    },
    /// Validate a configuration and report every problem.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write the deterministic test datasets into a directory.
    #[cfg(feature = "fixtures")]
    MakeFixtures {
        dir: PathBuf,
        /// Write the daily series for aggregations instead (N days).
        #[arg(long, value_name = "N")]
        daily_series: Option<usize>,
        /// Write `large.nc` instead: a chunked, compressed 720×1440 grid, N time steps.
        #[arg(long, value_name = "N")]
        large: Option<usize>,
    },
}

/// The bundled demo catalog: next to the sources when run with cargo, else `./catalogs`.
fn demo_catalog() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs/demo/catalog.toml");
    if built.exists() {
        built
    } else {
        PathBuf::from("catalogs/demo/catalog.toml")
    }
}

/// An object-store URL given as a path (`s3://bucket/prefix`, `gs://`, `az://`,
/// `http(s)://`), as the prefix whose listing is served like a directory's files
/// (credentials and endpoint come from the environment, as for configured roots).
fn object_store_prefix(arg: &str) -> Option<String> {
    const SCHEMES: [&str; 5] = ["s3://", "gs://", "az://", "http://", "https://"];
    SCHEMES.iter().any(|s| arg.starts_with(s)).then(|| {
        if arg.ends_with('/') {
            arg.to_string()
        } else {
            format!("{arg}/")
        }
    })
}

fn load_config(paths: &[PathBuf], config: Option<&Path>) -> Result<Config, String> {
    let mut cfg = match config {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None if paths.is_empty() => Config::load(&demo_catalog()).map_err(|e| e.to_string())?,
        None => Config::from_env().map_err(|e| e.to_string())?,
    };
    for p in paths {
        if let Some(url) = p.to_str().and_then(object_store_prefix) {
            cfg.roots.push(datagate::config::RootConfig {
                path: url,
                prefix: String::new(),
            });
        } else if p.is_dir() {
            cfg.roots.push(datagate::config::RootConfig {
                path: std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string(),
                prefix: String::new(),
            });
        } else if p.is_file() {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            cfg.datasets.push(datagate::config::DatasetConfig {
                id: Some(name),
                title: None,
                location: Some(
                    std::path::absolute(p)
                        .unwrap_or_else(|_| p.clone())
                        .display()
                        .to_string(),
                ),
                glob: None,
            });
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _logs = match datagate::logging::LogFormat::chosen(cli.log_format) {
        Ok(format) => datagate::logging::init(format),
        Err(e) => {
            eprintln!("error: DATAGATE_LOG_FORMAT: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve {
            paths,
            config,
            bind,
        } => {
            let mut cfg = match load_config(&paths, config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Some(b) = bind {
                cfg.server.bind = b;
            }
            for d in &cfg.deprecations {
                tracing::warn!("{d}");
            }
            let problems = cfg.problems();
            if !problems.is_empty() {
                for p in problems {
                    eprintln!("error: {p}");
                }
                return ExitCode::from(2);
            }
            let addr = cfg.bind_addr().expect("checked above");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let state = AppState::load(cfg).await;
                let listener = match tokio::net::TcpListener::bind(addr).await {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("error: cannot listen on {addr}: {e}");
                        return ExitCode::from(1);
                    }
                };
                let local = listener.local_addr().map_or(addr, |a| a);
                tracing::info!("datagate listening on http://{local}/");
                // Tests and scripts read this line to find the port.
                println!("listening on http://{local}/");
                match server::serve(state, listener).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(1)
                    }
                }
            })
        }
        Command::Check { config } => {
            let cfg = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            for d in &cfg.deprecations {
                println!("deprecated: {d}");
            }
            let mut problems = cfg.problems();
            let (catalog, catalog_problems) = datagate::catalog::Catalog::from_config(
                &cfg,
                std::sync::Arc::new(datagate::metrics::Metrics::new()),
            );
            problems.extend(catalog_problems);
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime.block_on(async {
                problems.extend(catalog.scan_remote(&cfg).await);
                for id in catalog.entries().keys() {
                    if let Err(e) = catalog.open(id).await {
                        problems.push(e.to_string());
                    }
                }
            });
            if problems.is_empty() {
                println!("{}: ok, {} datasets", config.display(), catalog.len());
                ExitCode::SUCCESS
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
                println!("{}: {} problems", config.display(), problems.len());
                ExitCode::from(1)
            }
        }
        #[cfg(feature = "fixtures")]
        Command::MakeFixtures {
            dir,
            daily_series,
            large,
        } => match match (daily_series, large) {
            (Some(n), _) => datagate::fixtures::daily_series(&dir, n),
            (None, Some(n)) => std::fs::create_dir_all(&dir)
                .map_err(|e| netcdf::Error::Str(e.to_string()))
                .and_then(|()| datagate::fixtures::large_nc4(&dir.join("large.nc"), n))
                .map(|()| vec![dir.join("large.nc")]),
            (None, None) => datagate::fixtures::write_all(&dir),
        } {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_store_urls_are_prefixes() {
        assert_eq!(
            object_store_prefix("s3://bucket/fixtures").as_deref(),
            Some("s3://bucket/fixtures/")
        );
        assert_eq!(object_store_prefix("gs://b/").as_deref(), Some("gs://b/"));
        assert_eq!(object_store_prefix("/data/sst"), None);
        assert_eq!(object_store_prefix("file:///data"), None);
        let cfg = load_config(&[PathBuf::from("az://container/p")], None).unwrap();
        assert_eq!(cfg.roots[0].path, "az://container/p/");
    }
}

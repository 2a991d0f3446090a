//! Build script of tower-socketio.
//!
//! With the `client-bundle` feature (on by default) it embeds the official
//! Socket.IO browser client, the `dist/` files of the npm package
//! `socket.io-client` at the exact version pinned below, so that the server
//! can serve `<path>/socket.io.js` and friends the way the Node server's
//! `serveClient` option does. The files are never committed to the
//! repository; they are obtained at build time:
//!
//! 1. from `$TOWER_SOCKETIO_CLIENT_DIST` when it is set: a directory holding
//!    the dist files or the `socket.io-client-<version>.tgz` tarball, or the
//!    path of that tarball itself;
//! 2. otherwise with the ordinary npm client:
//!    `npm pack socket.io-client@<version>`, which works offline when npm's
//!    cache already holds the package.
//!
//! When neither works (no npm on PATH, no network and nothing in npm's cache:
//! an offline CI, a `rust:slim` image, docs.rs), the build still succeeds,
//! without the bundle, and says so in a cargo warning: the server then
//! answers the bundle's paths with `404` and a log line saying how to get it.
//! Set `TOWER_SOCKETIO_REQUIRE_CLIENT=1` to make that an error instead.
//!
//! A tarball is checked against the pinned npm `dist.integrity` (sha512)
//! before anything is taken from it (a mismatch always stops the build). The files, and a gzip-compressed copy of
//! each, are written to `$OUT_DIR/client-dist/`, and
//! `$OUT_DIR/client_bundle_files.rs` (included by `src/client_bundle.rs`)
//! embeds them with `include_bytes!`.
//!
//! Without the feature the script does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Cargo enables `cfg(feature = "client-bundle")` for this script exactly
    // when it sets `CARGO_FEATURE_CLIENT_BUNDLE`; the build-dependencies the
    // work needs only exist then.
    #[cfg(feature = "client-bundle")]
    client_bundle::run();
    #[cfg(feature = "admin")]
    admin_ui::run();
}

/// Fetching, verifying and embedding the admin UI's static files (feature `admin`): the
/// `ui/dist/` files of the npm package `@socket.io/admin-ui` at the pinned version, from the
/// tarball `npm pack` gives (or `$TOWER_SOCKETIO_ADMIN_UI_DIST`, the path of that tarball),
/// checked against the published sha512 integrity. Source maps are left out. Without npm the
/// build goes on without the UI (a cargo warning says so; the server answers its paths with 404
/// and a log line), unless `TOWER_SOCKETIO_REQUIRE_ADMIN_UI=1`. Writes
/// `$OUT_DIR/admin_ui_files.rs`, included by `src/admin/ui.rs`.
#[cfg(feature = "admin")]
mod admin_ui {
    use std::env;
    use std::fmt::Write as _;
    use std::fs;
    use std::io::Read as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// `src/admin/ui.rs` has the same value in `UI_VERSION`.
    const VERSION: &str = "0.5.1";
    /// `npm view @socket.io/admin-ui@0.5.1 dist.integrity`.
    const INTEGRITY: &str = "sha512-1dlGL2FGm6T+uL1e6iDvbo2eCINwvW7iVbjIblwh5kPPRM1SP8lmZrbFZf4QNJ/cqQ+JLcx49eXGM9WAB4TK7w==";
    const DIST_ENV: &str = "TOWER_SOCKETIO_ADMIN_UI_DIST";
    const REQUIRE_ENV: &str = "TOWER_SOCKETIO_REQUIRE_ADMIN_UI";
    const GENERATED: &str = "admin_ui_files.rs";

    pub(crate) fn run() {
        println!("cargo:rerun-if-env-changed={DIST_ENV}");
        println!("cargo:rerun-if-env-changed={REQUIRE_ENV}");
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let tarball = match env::var_os(DIST_ENV).filter(|v| !v.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                println!("cargo:rerun-if-changed={}", path.display());
                match fs::read(&path) {
                    Ok(bytes) => Ok(bytes),
                    Err(e) => fail(&format!("{DIST_ENV}: cannot read {}: {e}", path.display())),
                }
            }
            None if env::var_os("DOCS_RS").is_some() => Err("DOCS_RS is set".to_owned()),
            None => from_npm(&out_dir),
        };
        let files = match tarball {
            Ok(bytes) => {
                if let Err(actual) = verify(&bytes) {
                    fail(&format!(
                        "the @socket.io/admin-ui {VERSION} tarball has integrity {actual}, expected {INTEGRITY}"
                    ));
                }
                extract(&bytes)
            }
            Err(why) => {
                if env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
                    fail(&why);
                }
                println!(
                    "cargo:warning=tower-socketio: the admin UI's files are not embedded ({why}); \
                     the server answers their paths with 404. To embed them: put npm on PATH, or \
                     set {DIST_ENV} to the path of `npm pack @socket.io/admin-ui@{VERSION}`."
                );
                Vec::new()
            }
        };
        write(&out_dir, &files);
    }

    fn fail(message: &str) -> ! {
        eprintln!("error: tower-socketio could not embed the admin UI: {message}");
        std::process::exit(1);
    }

    fn from_npm(out_dir: &Path) -> Result<Vec<u8>, String> {
        let name = format!("socket.io-admin-ui-{VERSION}.tgz");
        let kept = out_dir.join(&name);
        if let Ok(bytes) = fs::read(&kept) {
            if verify(&bytes).is_ok() {
                return Ok(bytes);
            }
        }
        let staging = out_dir.join("npm-pack-admin-ui");
        fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        let output = Command::new(npm)
            .args([
                "pack",
                &format!("@socket.io/admin-ui@{VERSION}"),
                "--loglevel=error",
            ])
            .arg("--prefer-offline")
            .arg("--pack-destination")
            .arg(&staging)
            .current_dir(&staging)
            .output()
            .map_err(|e| format!("cannot run `{npm}`: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().next().unwrap_or("").to_owned();
            return Err(format!("`{npm} pack` failed ({}): {first}", output.status));
        }
        let bytes = fs::read(staging.join(&name)).map_err(|e| e.to_string())?;
        let _ = fs::rename(staging.join(&name), &kept);
        Ok(bytes)
    }

    fn verify(tarball: &[u8]) -> Result<(), String> {
        use sha2::{Digest, Sha512};
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let digest = Sha512::digest(tarball);
        let mut actual = String::from("sha512-");
        for chunk in digest.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                actual.push(if i <= chunk.len() {
                    char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63])
                } else {
                    '='
                });
            }
        }
        if actual == INTEGRITY {
            Ok(())
        } else {
            Err(actual)
        }
    }

    /// The files under `package/ui/dist/`, source maps left out: (relative path, bytes).
    fn extract(tarball: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
        let entries = archive.entries().unwrap_or_else(|e| fail(&e.to_string()));
        for entry in entries {
            let mut entry = entry.unwrap_or_else(|e| fail(&e.to_string()));
            let path = entry
                .path()
                .unwrap_or_else(|e| fail(&e.to_string()))
                .into_owned();
            let Ok(rest) = path.strip_prefix("package/ui/dist") else {
                continue;
            };
            let rest = rest.to_string_lossy().replace('\\', "/");
            if rest.is_empty() || rest.ends_with(".map") || !entry.header().entry_type().is_file() {
                continue;
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .unwrap_or_else(|e| fail(&e.to_string()));
            files.push((rest, bytes));
        }
        if !files.iter().any(|(name, _)| name == "index.html") {
            fail("the tarball has no package/ui/dist/index.html");
        }
        files.sort();
        files
    }

    fn write(out_dir: &Path, files: &[(String, Vec<u8>)]) {
        let dir = out_dir.join("admin-ui");
        let _ = fs::create_dir_all(&dir);
        let mut code = String::from("/// The admin UI's files: (path under `ui/dist/`, bytes).\n");
        code.push_str("pub(super) const UI_FILES: &[(&str, &[u8])] = &[\n");
        for (i, (name, bytes)) in files.iter().enumerate() {
            let file = dir.join(format!("{i}"));
            fs::write(&file, bytes).unwrap_or_else(|e| fail(&e.to_string()));
            let _ = writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                file.display().to_string()
            );
        }
        code.push_str("];\n");
        fs::write(out_dir.join(GENERATED), code).unwrap_or_else(|e| fail(&e.to_string()));
    }
}

/// Fetching, verifying and embedding the socket.io-client browser bundle.
#[cfg(feature = "client-bundle")]
mod client_bundle {
    use std::env;
    use std::ffi::OsString;
    use std::fmt::Write as _;
    use std::fs;
    use std::io::{ErrorKind, Read, Write as _};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The pinned version of the npm package `socket.io-client`.
    /// `src/client_bundle.rs` has the same value in `CLIENT_VERSION`.
    const CLIENT_VERSION: &str = "4.8.1";

    /// `npm view socket.io-client@4.8.1 dist.integrity`: the sha512 of the
    /// published tarball, base64-encoded, in Subresource Integrity form.
    const CLIENT_INTEGRITY: &str = "sha512-hJVXfu3E28NmzGk8o1sHhN3om52tRvwYeidbj7xKy2eIIse5IoKX3USlS6Tqt3BHAtflLIkCQBkzVrEEfWUyYQ==";

    /// The environment variable that points the build at local files
    /// instead of running npm.
    const DIST_ENV: &str = "TOWER_SOCKETIO_CLIENT_DIST";

    /// The environment variable that makes a missing npm a build error.
    const REQUIRE_ENV: &str = "TOWER_SOCKETIO_REQUIRE_CLIENT";

    /// The files taken from the package's `dist/` folder.
    const FILES: [&str; 8] = [
        "socket.io.js",
        "socket.io.js.map",
        "socket.io.min.js",
        "socket.io.min.js.map",
        "socket.io.esm.min.js",
        "socket.io.esm.min.js.map",
        "socket.io.msgpack.min.js",
        "socket.io.msgpack.min.js.map",
    ];

    /// Name of the generated Rust file in `OUT_DIR`.
    const GENERATED: &str = "client_bundle_files.rs";

    /// The file name `npm pack` gives the tarball.
    fn tarball_name() -> String {
        format!("socket.io-client-{CLIENT_VERSION}.tgz")
    }

    /// The build script's entry point for the feature.
    pub(crate) fn run() {
        println!("cargo:rerun-if-env-changed={DIST_ENV}");
        println!("cargo:rerun-if-env-changed={REQUIRE_ENV}");
        println!("cargo:rerun-if-env-changed=PATH");
        println!("cargo:rerun-if-env-changed=DOCS_RS");
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

        let files = match env::var_os(DIST_ENV).filter(|v| !v.is_empty()) {
            Some(path) => from_user_path(path),
            // docs.rs builds without network or npm and never runs the
            // result: document the crate with an empty bundle there.
            None if env::var_os("DOCS_RS").is_some() => {
                println!(
                    "cargo:warning=DOCS_RS is set: the socket.io-client bundle is left out of this documentation build"
                );
                write_outputs(&out_dir, &[]);
                return;
            }
            None => match from_npm(&out_dir) {
                Some(files) => files,
                None => {
                    write_outputs(&out_dir, &[]);
                    return;
                }
            },
        };
        check_files(&files);
        write_outputs(&out_dir, &files);
    }

    /// Stops the build with `message`, followed by how to get past it.
    fn fail(message: &str) -> ! {
        let tgz = tarball_name();
        let lines = [
            String::new(),
            format!(
                "error: tower-socketio could not embed the Socket.IO browser client \
                 (npm package socket.io-client {CLIENT_VERSION})."
            ),
            String::new(),
            message.to_owned(),
            String::new(),
            "The `client-bundle` feature (on by default) embeds it so that the server can serve"
                .to_owned(),
            "`<path>/socket.io.js`. Any one of these fixes the build:".to_owned(),
            "  1. Install Node.js/npm so that `npm` is on PATH (needed at build time only; the build"
                .to_owned(),
            format!(
                "     runs `npm pack socket.io-client@{CLIENT_VERSION}`, which works offline once \
                 npm's cache has it)."
            ),
            format!(
                "  2. On any machine with npm, run `npm pack socket.io-client@{CLIENT_VERSION}`, \
                 copy the resulting"
            ),
            format!("     {tgz} to this machine and build with"),
            format!("     {DIST_ENV}=/absolute/path/to/{tgz}"),
            "     (a directory holding that file, or the package's dist/ files, works too)."
                .to_owned(),
            "  3. Leave the client out: depend on tower-socketio with `default-features = false`."
                .to_owned(),
            String::new(),
        ];
        eprintln!("{}", lines.join("\n"));
        std::process::exit(1);
    }

    /// Files from `$TOWER_SOCKETIO_CLIENT_DIST`: a tarball, a directory
    /// holding the tarball, or a directory holding the dist files (directly
    /// or in a `dist/` subdirectory, as in `node_modules/socket.io-client`).
    fn from_user_path(value: OsString) -> Vec<(&'static str, Vec<u8>)> {
        let given = PathBuf::from(value);
        // Relative paths are resolved against the build script's working
        // directory, the package's manifest directory.
        let relative = given.is_relative();
        let path = if !relative {
            given
        } else {
            env::current_dir().map(|d| d.join(&given)).unwrap_or(given)
        };
        println!("cargo:rerun-if-changed={}", path.display());

        if path.is_file() {
            return from_tarball_file(&path);
        }
        if !path.is_dir() {
            fail(&format!(
                "{DIST_ENV} is set to `{}`, which is neither a file nor a directory.{}",
                path.display(),
                if relative {
                    " (A relative path is taken from the package's manifest directory: give an \
                     absolute path.)"
                } else {
                    ""
                }
            ));
        }
        let tgz = path.join(tarball_name());
        if tgz.is_file() {
            println!("cargo:rerun-if-changed={}", tgz.display());
            return from_tarball_file(&tgz);
        }
        let dist = path.join("dist");
        let dir = if !FILES.iter().all(|f| path.join(f).is_file())
            && FILES.iter().all(|f| dist.join(f).is_file())
        {
            dist
        } else {
            path
        };
        let missing: Vec<&str> = FILES
            .iter()
            .copied()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            fail(&format!(
                "{DIST_ENV} is set to the directory `{}`, which holds neither `{}` nor all the \
                 socket.io-client dist files; missing: {}.",
                dir.display(),
                tarball_name(),
                missing.join(", ")
            ));
        }
        FILES
            .iter()
            .map(|&name| {
                let file = dir.join(name);
                println!("cargo:rerun-if-changed={}", file.display());
                match fs::read(&file) {
                    Ok(bytes) => (name, bytes),
                    Err(e) => fail(&format!("Could not read `{}`: {e}.", file.display())),
                }
            })
            .collect()
    }

    /// Reads, verifies and unpacks the tarball at `path`.
    fn from_tarball_file(path: &Path) -> Vec<(&'static str, Vec<u8>)> {
        let bytes = fs::read(path)
            .unwrap_or_else(|e| fail(&format!("Could not read `{}`: {e}.", path.display())));
        if let Err(actual) = verify_integrity(&bytes) {
            fail(&format!(
                "`{}` is not the published socket.io-client {CLIENT_VERSION} tarball: its \
                 integrity is {actual}, expected {CLIENT_INTEGRITY}.",
                path.display()
            ));
        }
        extract(&bytes, path)
    }

    /// Gets the tarball with `npm pack` (reusing one already in `OUT_DIR`),
    /// verifies and unpacks it.
    /// npm could not give the tarball: the build goes on without the bundle (a
    /// cargo warning says so), unless `TOWER_SOCKETIO_REQUIRE_CLIENT` is set.
    fn unavailable(message: &str) -> Option<Vec<(&'static str, Vec<u8>)>> {
        if env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
            fail(message);
        }
        let first = message.lines().next().unwrap_or(message);
        println!(
            "cargo:warning=tower-socketio: the Socket.IO browser client is not embedded ({first}); \
             the server answers /socket.io/socket.io.js with 404. To embed it: put npm on PATH, \
             or set {DIST_ENV} (see the README, \"The browser client\")."
        );
        None
    }

    fn from_npm(out_dir: &Path) -> Option<Vec<(&'static str, Vec<u8>)>> {
        let tgz = out_dir.join(tarball_name());
        if let Ok(bytes) = fs::read(&tgz) {
            if verify_integrity(&bytes).is_ok() {
                return Some(extract(&bytes, &tgz));
            }
            // A damaged leftover: fetch it again.
            let _ = fs::remove_file(&tgz);
        }

        // npm writes into a staging directory; only a verified tarball is
        // moved to where a later build reuses it.
        let staging = out_dir.join("npm-pack");
        let staged = staging.join(tarball_name());
        let _ = fs::remove_file(&staged);
        if let Err(e) = fs::create_dir_all(&staging) {
            fail(&format!("Could not create `{}`: {e}.", staging.display()));
        }

        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        let spec = format!("socket.io-client@{CLIENT_VERSION}");
        let output = Command::new(npm)
            .arg("pack")
            .arg(&spec)
            .arg("--pack-destination")
            .arg(&staging)
            // Quiet, but unlike `--silent` still says why it failed.
            .arg("--loglevel=error")
            // The version is pinned and the integrity checked below, so a
            // cached copy is as good as a fresh one: use it without asking
            // the registry whether it is stale.
            .arg("--prefer-offline")
            // Out of the source tree, so no package.json around affects npm.
            .current_dir(&staging)
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return unavailable(&format!(
                    "`{npm}` was not found on PATH, and {DIST_ENV} is not set."
                ));
            }
            Err(e) => return unavailable(&format!("Could not run `{npm}`: {e}.")),
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // npm's message without the JavaScript stack trace.
            let stderr = stderr
                .lines()
                .filter(|l| {
                    !l.trim_start_matches("npm error")
                        .trim_start()
                        .starts_with("at ")
                })
                .collect::<Vec<_>>()
                .join("\n");
            let stderr = stderr.trim();
            return unavailable(&format!(
                "`{npm} pack {spec}` failed ({}){}",
                output.status,
                if stderr.is_empty() {
                    ".".to_owned()
                } else {
                    format!(":\n{}", indent(stderr))
                }
            ));
        }
        let bytes = fs::read(&staged).unwrap_or_else(|e| {
            fail(&format!(
                "`{npm} pack {spec}` succeeded but `{}` could not be read: {e}.",
                staged.display()
            ))
        });
        if let Err(actual) = verify_integrity(&bytes) {
            let _ = fs::remove_file(&staged);
            fail(&format!(
                "The tarball npm returned for {spec} does not match the pinned integrity:\n  \
                 expected {CLIENT_INTEGRITY}\n  got      {actual}\n\
                 (a wrong registry mirror or a corrupted npm cache? `npm cache verify` may help)."
            ));
        }
        if fs::rename(&staged, &tgz).is_err() {
            // Not fatal: the next build just runs npm again.
            let _ = fs::remove_file(&staged);
        }
        let _ = fs::remove_dir(&staging);
        Some(extract(&bytes, &tgz))
    }

    /// Indents each line of `text` by four spaces.
    fn indent(text: &str) -> String {
        text.lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Checks `tarball` against `CLIENT_INTEGRITY`; on mismatch, returns the
    /// integrity string it actually has.
    fn verify_integrity(tarball: &[u8]) -> Result<(), String> {
        use sha2::{Digest, Sha512};
        let actual = format!("sha512-{}", base64(&Sha512::digest(tarball)));
        if actual == CLIENT_INTEGRITY {
            Ok(())
        } else {
            Err(actual)
        }
    }

    /// Standard base64 with padding, as in npm integrity strings.
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// Takes the `FILES` out of the tarball's `package/dist/`.
    fn extract(tarball: &[u8], origin: &Path) -> Vec<(&'static str, Vec<u8>)> {
        let bad = |e: std::io::Error| -> ! {
            fail(&format!("Could not unpack `{}`: {e}.", origin.display()))
        };
        let mut found: Vec<Option<Vec<u8>>> = vec![None; FILES.len()];
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
        for entry in archive.entries().unwrap_or_else(|e| bad(e)) {
            let mut entry = entry.unwrap_or_else(|e| bad(e));
            let path = entry.path().unwrap_or_else(|e| bad(e)).into_owned();
            let parts: Vec<_> = path.iter().collect();
            let [_package, dist, name] = parts.as_slice() else {
                continue;
            };
            if *dist != "dist" {
                continue;
            }
            if let Some(i) = FILES.iter().position(|f| *name == *f) {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap_or_else(|e| bad(e));
                found[i] = Some(bytes);
            }
        }
        FILES
            .iter()
            .zip(found)
            .map(|(&name, bytes)| match bytes {
                Some(bytes) => (name, bytes),
                None => fail(&format!(
                    "`{}` has no `package/dist/{name}`.",
                    origin.display()
                )),
            })
            .collect()
    }

    /// Sanity checks on the files, mostly for ones given loose (a tarball's
    /// content is already vouched for by its integrity): the scripts must be
    /// of the pinned version, since it is served as their `ETag`.
    fn check_files(files: &[(&str, Vec<u8>)]) {
        let banner = format!("Socket.IO v{CLIENT_VERSION}\n");
        for (name, bytes) in files {
            if name.ends_with(".map") {
                if !bytes.starts_with(b"{") {
                    fail(&format!("`{name}` is not a JSON source map."));
                }
            } else {
                let head = &bytes[..bytes.len().min(200)];
                if !head.windows(banner.len()).any(|w| w == banner.as_bytes()) {
                    fail(&format!(
                        "`{name}` is not the socket.io-client {CLIENT_VERSION} build: its banner \
                         lacks `Socket.IO v{CLIENT_VERSION}`."
                    ));
                }
            }
        }
    }

    /// Writes each file and its gzip copy to `OUT_DIR/client-dist/`, then the
    /// Rust source that embeds them.
    fn write_outputs(out_dir: &Path, files: &[(&'static str, Vec<u8>)]) {
        let dist = out_dir.join("client-dist");
        if let Err(e) = fs::create_dir_all(&dist) {
            fail(&format!("Could not create `{}`: {e}.", dist.display()));
        }
        let write = |path: &Path, bytes: &[u8]| {
            if let Err(e) = fs::write(path, bytes) {
                fail(&format!("Could not write `{}`: {e}.", path.display()));
            }
        };

        let mut code = format!(
            "// @generated by tower-socketio's build.rs: socket.io-client {CLIENT_VERSION}.\n\
             \n\
             /// Version of the socket.io-client package the embedded files come from.\n\
             const BUNDLED_VERSION: &str = {CLIENT_VERSION:?};\n\
             \n\
             /// The embedded files of socket.io-client's `dist/` folder.\n\
             static BUNDLE_FILES: &[BundleFile] = &[\n"
        );
        for (name, bytes) in files {
            let plain = dist.join(name);
            let gz = dist.join(format!("{name}.gz"));
            write(&plain, bytes);
            write(&gz, &gzip(bytes));
            // Paths relative to OUT_DIR, so the generated code holds no
            // machine-specific path.
            let _ = writeln!(
                code,
                "    BundleFile {{\n        name: {name:?},\n        \
                 identity: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/client-dist/{name}\")),\n        \
                 gzip: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/client-dist/{name}.gz\")),\n    }},"
            );
        }
        code.push_str("];\n");
        write(&out_dir.join(GENERATED), code.as_bytes());
    }

    /// `bytes` gzip-compressed at the best level, with a fixed header (no
    /// name, zero mtime), so the output is reproducible.
    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(bytes.len() / 3),
            flate2::Compression::best(),
        );
        encoder
            .write_all(bytes)
            .and_then(|()| encoder.finish())
            .unwrap_or_else(|e| fail(&format!("gzip compression failed: {e}.")))
    }
}

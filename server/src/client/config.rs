//! Where `muster login` keeps the server's URL and the token: a TOML file
//! readable by its owner only, since the token acts as an admin.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Failure;

/// A server and a token for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    pub url: String,
    pub token: String,
}

/// `$MUSTER_CONFIG`, else `$XDG_CONFIG_HOME/muster/config.toml`, else
/// `~/.config/muster/config.toml`.
pub fn path() -> Result<PathBuf, Failure> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(path) = set("MUSTER_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    let base = match (set("XDG_CONFIG_HOME"), set("HOME")) {
        (Some(config), _) => PathBuf::from(config),
        (None, Some(home)) => PathBuf::from(home).join(".config"),
        (None, None) => {
            return Err(Failure::Input(
                "no HOME to keep the login in; set MUSTER_CONFIG to a file path".to_owned(),
            ))
        }
    };
    Ok(base.join("muster").join("config.toml"))
}

/// The saved login, each half overridden by `MUSTER_URL` / `MUSTER_TOKEN`.
pub fn load() -> Result<Login, Failure> {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    let (env_url, env_token) = (env("MUSTER_URL"), env("MUSTER_TOKEN"));
    let saved = match (&env_url, &env_token) {
        (Some(_), Some(_)) => None,
        _ => read()?,
    };
    let url = env_url.or_else(|| saved.as_ref().map(|login| login.url.clone()));
    let token = env_token.or_else(|| saved.map(|login| login.token));
    match (url, token) {
        (Some(url), Some(token)) => Ok(Login {
            url: normalize_url(&url)?,
            token: token.trim().to_owned(),
        }),
        _ => Err(Failure::Server(
            "not logged in: run `muster login --url URL --token TOKEN`, or set MUSTER_URL and MUSTER_TOKEN"
                .to_owned(),
        )),
    }
}

fn read() -> Result<Option<Login>, Failure> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Failure::Input(format!(
                "cannot read {}: {error}",
                path.display()
            )))
        }
    };
    toml::from_str(&text).map(Some).map_err(|error| {
        Failure::Input(format!(
            "{} is not a muster config: {error}",
            path.display()
        ))
    })
}

/// Writes the login with mode 0600 (the directory 0700) and says where.
pub fn save(login: &Login) -> Result<PathBuf, Failure> {
    let path = path()?;
    let failed =
        |error: std::io::Error| Failure::Input(format!("cannot write {}: {error}", path.display()));
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(failed)?;
    }
    let text = toml::to_string(login)
        .map_err(|error| Failure::Input(format!("cannot write the login: {error}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(failed)?;
    // A file that existed before keeps its mode on open; the token must not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
    Ok(path)
}

/// `https://muster.example.org/` and `…/api/v1` both name the server.
pub fn normalize_url(url: &str) -> Result<String, Failure> {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix("/api/v1").unwrap_or(url);
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    if host.is_none_or(str::is_empty) {
        return Err(Failure::Input(format!(
            "{url:?} is not a server address; give one like https://muster.example.org"
        )));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_api_address_names_the_server() {
        for url in [
            "https://muster.example.org",
            "https://muster.example.org/",
            " https://muster.example.org/api/v1/ ",
        ] {
            assert_eq!(normalize_url(url).unwrap(), "https://muster.example.org");
        }
        assert!(normalize_url("muster.example.org").is_err());
    }
}

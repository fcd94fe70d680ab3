//! Webhook targets may not be on loopback, private, link-local, shared or cloud-metadata
//! addresses (SSRF), unless `CRM_WEBHOOK_ALLOW_PRIVATE=true`. Checked when an endpoint is
//! saved (its host resolved now) and on every delivery: the HTTP client resolves names
//! through [`Resolver`], which refuses such addresses, so a name that later resolves to
//! an internal address (DNS rebinding) is refused at connect time; literal IPs are checked
//! before sending.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// True for addresses a webhook may not reach.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local() // 169.254/16, the cloud metadata service included
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space (CGNAT)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || o[0] >= 224 // multicast and reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 metadata included)
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 of any IPv4
                || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        }
    }
}

/// Resolve `host:port` and refuse when any address is internal (unless allowed).
pub async fn resolve(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private && addrs.iter().any(|a| is_internal(a.ip())) {
        return Err(format!("{host} resolves to a private, loopback or link-local address"));
    }
    Ok(addrs)
}

/// Check a URL's host (literal IP or name) now.
pub async fn check_url(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    resolve(host, port, allow_private).await.map(|_| ())
}

/// The HTTP client's DNS resolver: the same refusal at connect time.
pub struct Resolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0, allow)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// The client every delivery uses: no redirects, 10 s timeout, our resolver.
pub fn client(allow_private: bool, timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(Resolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        // a proxy would resolve the target itself, past the resolver's check
        .no_proxy()
        .timeout(timeout)
        .user_agent("CRM-Webhooks/1")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }
}

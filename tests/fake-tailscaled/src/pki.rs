//! A private root → intermediate → leaf hierarchy standing in for Let's Encrypt.
//!
//! The chain has an intermediate because tailscaled serves Let's Encrypt's chain
//! (leaf + intermediate, never the root): a consumer that only hands the leaf to its TLS
//! stack must fail here as it would in production.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;

/// One issued certificate for a domain, in the forms tailscaled writes to its cert dir.
#[derive(Clone)]
pub(crate) struct Leaf {
    /// `EC PRIVATE KEY` (SEC1) PEM, as Go's `x509.MarshalECPrivateKey` + `pem.Encode`.
    pub key_pem: String,
    /// Leaf then intermediate, each a `CERTIFICATE` PEM block.
    pub chain_pem: String,
    pub leaf_der: Vec<u8>,
}

pub(crate) struct Pki {
    root_der: Vec<u8>,
    root_pem: String,
    intermediate_pem: String,
    intermediate: Issuer<'static, KeyPair>,
    leaves: HashMap<String, Leaf>,
}

fn to_io(error: rcgen::Error) -> io::Error {
    io::Error::other(format!("fake-tailscaled certificate generation: {error}"))
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "fake-tailscaled");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

impl Pki {
    pub fn new() -> io::Result<Self> {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(to_io)?;
        // Unique names per fake: two fakes' CAs with the same subject make a verifier try
        // the wrong issuer and report a bad signature instead of an unknown issuer.
        let tag: String = root_key.public_key_raw()[1..5]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let root_params = ca_params(&format!("Fake Tailnet Root CA {tag}"));
        let root_cert = root_params.self_signed(&root_key).map_err(to_io)?;
        let root = Issuer::new(root_params, root_key);

        let intermediate_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(to_io)?;
        let mut intermediate_params = ca_params(&format!("Fake Tailnet Intermediate {tag}"));
        intermediate_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        intermediate_params.use_authority_key_identifier_extension = true;
        let intermediate_cert = intermediate_params
            .signed_by(&intermediate_key, &root)
            .map_err(to_io)?;

        Ok(Self {
            root_der: root_cert.der().to_vec(),
            root_pem: root_cert.pem(),
            intermediate_pem: intermediate_cert.pem(),
            intermediate: Issuer::new(intermediate_params, intermediate_key),
            leaves: HashMap::new(),
        })
    }

    pub fn ca_pem(&self) -> &str {
        &self.root_pem
    }

    pub fn ca_der(&self) -> &[u8] {
        &self.root_der
    }

    pub fn leaf(&self, domain: &str) -> Option<&Leaf> {
        self.leaves.get(domain)
    }

    /// Issues (or replaces) the leaf for `domain`: fresh key, so a fresh serial too.
    pub fn issue(&mut self, domain: &str, validity: Duration) -> io::Result<Leaf> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(to_io)?;
        let mut params = CertificateParams::new(vec![domain.to_owned()]).map_err(to_io)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, domain);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        // Backdated a little, like ACME CAs do, so clock skew between test processes is moot.
        params.not_before = now - time::Duration::minutes(1);
        params.not_after = now
            + time::Duration::try_from(validity)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let cert = params.signed_by(&key, &self.intermediate).map_err(to_io)?;

        let leaf = Leaf {
            key_pem: sec1_pem(&key)?,
            chain_pem: format!("{}{}", cert.pem(), self.intermediate_pem),
            leaf_der: cert.der().to_vec(),
        };
        self.leaves.insert(domain.to_owned(), leaf.clone());
        Ok(leaf)
    }

    pub fn issued_domains(&self) -> Vec<String> {
        self.leaves.keys().cloned().collect()
    }
}

/// Re-encodes the key as tailscaled does: SEC1 `EC PRIVATE KEY` with the curve parameters
/// present. rcgen only emits PKCS#8, and a consumer that assumes PKCS#8 would pass against
/// a fake that served it and then break against the real daemon.
fn sec1_pem(key: &KeyPair) -> io::Result<String> {
    let bad = || io::Error::other("unexpected PKCS#8 layout from rcgen");
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING }
    let (_, info, _) = der_tlv(key.serialized_der()).ok_or_else(bad)?;
    let (_, _version, rest) = der_tlv(info).ok_or_else(bad)?;
    let (_, _algorithm, rest) = der_tlv(rest).ok_or_else(bad)?;
    let (tag, ec_private_key, _) = der_tlv(rest).ok_or_else(bad)?;
    if tag != 0x04 {
        return Err(bad());
    }
    // ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, ... }
    let (_, ec, _) = der_tlv(ec_private_key).ok_or_else(bad)?;
    let (_, _version, rest) = der_tlv(ec).ok_or_else(bad)?;
    let (tag, scalar, _) = der_tlv(rest).ok_or_else(bad)?;
    let public = key.public_key_raw();
    if tag != 0x04 || scalar.len() != 32 || public.len() != 65 {
        return Err(bad());
    }

    const PRIME256V1: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut body = vec![0x02, 0x01, 0x01, 0x04, 0x20];
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[0xa0, PRIME256V1.len() as u8]);
    body.extend_from_slice(&PRIME256V1);
    body.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    body.extend_from_slice(public);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    Ok(pem_block("EC PRIVATE KEY", &der))
}

/// Splits one DER TLV off `input`: (tag, contents, rest). Only what PKCS#8 needs.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 2 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn pem_block(label: &str, der: &[u8]) -> String {
    // Go's pem.Encode: LF line endings, 64-column body.
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der.to_vec()), config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec1_key_has_go_layout() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = sec1_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert!(pem.ends_with("-----END EC PRIVATE KEY-----\n"));
        // Go's MarshalECPrivateKey output for P-256 is always 121 bytes: 164 base64 chars.
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(body.len(), 164);
    }
}

//! Loopback fakes of Stripe and Kentico: real HTTP servers that record every request and fail on demand.

pub mod erp;
pub mod faults;
pub mod kentico;
pub mod quickbooks;
pub mod stripe;
pub mod stripe_params;
pub mod xbyk;

/// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
pub fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |part: &[u8]| {
        let hex = |b: u8| (b as char).to_digit(16);
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match (
                part[i],
                part.get(i + 1).copied().and_then(hex),
                part.get(i + 2).copied().and_then(hex),
            ) {
                (b'+', _, _) => out.push(b' '),
                (b'%', Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                (b, _, _) => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let pairs = body.split(|b| *b == b'&').filter(|pair| !pair.is_empty());
    pairs
        .map(|pair| {
            let mut halves = pair.splitn(2, |b| *b == b'=');
            let key = decode(halves.next().unwrap_or_default());
            (key, decode(halves.next().unwrap_or_default()))
        })
        .collect()
}

//! JavaScript dates as JSON carries them: `new Date().toJSON()`.

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` as an ISO 8601 UTC string with milliseconds (`2024-05-01T12:30:05.042Z`).
pub(super) fn iso(time: SystemTime) -> String {
    crate::value::iso_date(millis(time) as i64)
}

/// Milliseconds since the epoch.
pub(super) fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso_dates() {
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_714_566_605_042);
        assert_eq!(iso(t), "2024-05-01T12:30:05.042Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso(leap), "2000-02-29T00:00:00.000Z");
    }
}

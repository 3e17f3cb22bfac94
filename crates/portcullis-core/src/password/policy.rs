//! Auth0's password strength policies, reproduced from its password-sheriff library
//! (`index.js`, `lib/rules/*.js`): five named levels, each a list of rules. A failed check yields
//! a [`PolicyReport`] that is password-sheriff's `missing()` result, which Auth0 sends verbatim as
//! the `description` of a `PasswordStrengthError`, and [`PolicyLevel::describe`] is its
//! `toString()`, sent as `policy`.

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyLevel {
    None,
    Low,
    Fair,
    Good,
    Excellent,
}

/// The rules of one connection's policy: a level, with Auth0's `password_complexity_options.min_length`
/// replacing the level's minimum length when set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub level: PolicyLevel,
    pub min_length: Option<u32>,
}

impl PolicyLevel {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Self::None,
            "low" => Self::Low,
            "fair" => Self::Fair,
            "good" => Self::Good,
            "excellent" => Self::Excellent,
            _ => return None,
        })
    }

    fn default_min_length(self) -> u32 {
        match self {
            Self::None => 1,
            Self::Low => 6,
            Self::Fair | Self::Good => 8,
            Self::Excellent => 10,
        }
    }
}

/// One character class of password-sheriff's `charsets.js`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    LowerCase,
    UpperCase,
    Numbers,
    SpecialCharacters,
}

impl CharClass {
    const ALL: [CharClass; 4] = [
        CharClass::LowerCase,
        CharClass::UpperCase,
        CharClass::Numbers,
        CharClass::SpecialCharacters,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::LowerCase => "lowerCase",
            Self::UpperCase => "upperCase",
            Self::Numbers => "numbers",
            Self::SpecialCharacters => "specialCharacters",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::LowerCase => "lower case letters (a-z)",
            Self::UpperCase => "upper case letters (A-Z)",
            Self::Numbers => "numbers (i.e. 0-9)",
            Self::SpecialCharacters => "special characters (e.g. !@#$%^&*)",
        }
    }

    /// The JavaScript regular expressions are ASCII-only (`/[a-z]/`, `/\d/`, OWASP's special set).
    fn matches(self, c: char) -> bool {
        match self {
            Self::LowerCase => c.is_ascii_lowercase(),
            Self::UpperCase => c.is_ascii_uppercase(),
            Self::Numbers => c.is_ascii_digit(),
            Self::SpecialCharacters => c == ' ' || (c.is_ascii_punctuation()),
        }
    }

    fn present_in(self, password: &str) -> bool {
        password.chars().any(|c| self.matches(c))
    }
}

/// password-sheriff's `missing()` output: the shape Auth0 sends as `description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    pub rules: Vec<RuleReport>,
    pub verified: bool,
}

impl PolicyReport {
    /// Each rule and item in words with whether the password met it, items one level down:
    /// what a page shows so that a person sees which rule failed.
    pub fn checklist(&self) -> Vec<(u8, String, bool)> {
        let mut lines = Vec::new();
        for rule in &self.rules {
            lines.push((0, render(rule.message, &rule.format), rule.verified));
            for item in &rule.items {
                lines.push((1, item.message.to_owned(), item.verified));
            }
        }
        lines
    }
}

/// One rule's entry; serialised with its keys in password-sheriff's order, which differs from rule
/// to rule (each builds its object literal its own way), and without an empty `format` or `items`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    pub message: &'static str,
    pub format: Vec<FormatArg>,
    pub code: &'static str,
    pub items: Vec<ItemReport>,
    pub verified: bool,
}

#[derive(Clone, Copy)]
enum RuleKey {
    Message,
    Format,
    Code,
    Items,
    Verified,
}

impl Serialize for RuleReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use RuleKey::{Code, Format, Items, Message, Verified};
        let order: &[RuleKey] = match self.code {
            "lengthAtLeast" => &[Message, Format, Code, Verified],
            "shouldContain" => &[Message, Code, Verified, Items],
            "containsAtLeast" => &[Message, Code, Format, Items, Verified],
            // nonEmpty (no format) and identicalChars.
            _ => &[Message, Code, Format, Verified],
        };
        let mut out = serializer.serialize_struct("RuleReport", order.len())?;
        for key in order {
            match key {
                Message => out.serialize_field("message", self.message)?,
                Format if self.format.is_empty() => out.skip_field("format")?,
                Format => out.serialize_field("format", &self.format)?,
                Code => out.serialize_field("code", self.code)?,
                Items if self.items.is_empty() => out.skip_field("items")?,
                Items => out.serialize_field("items", &self.items)?,
                Verified => out.serialize_field("verified", &self.verified)?,
            }
        }
        out.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemReport {
    pub message: &'static str,
    pub code: &'static str,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FormatArg {
    Number(u32),
    Text(String),
}

/// The maximum run of identical characters the `excellent` policy allows.
const EXCELLENT_MAX_IDENTICAL: u32 = 2;

impl PasswordPolicy {
    pub fn new(level: PolicyLevel, min_length: Option<u32>) -> Self {
        Self { level, min_length }
    }

    fn min_length(&self) -> u32 {
        self.min_length
            .unwrap_or_else(|| self.level.default_min_length())
    }

    /// Checks `password`; `Err` carries the full report of every rule, passed or not.
    pub fn check(&self, password: &str) -> Result<(), PolicyReport> {
        let report = self.report(password);
        if report.verified { Ok(()) } else { Err(report) }
    }

    pub fn report(&self, password: &str) -> PolicyReport {
        let rules: Vec<RuleReport> = self
            .rules()
            .into_iter()
            .map(|rule| rule.evaluate(password))
            .collect();
        let verified = rules.iter().all(|r| r.verified);
        PolicyReport { rules, verified }
    }

    /// password-sheriff's `toString()`: one `* ` line per rule, items indented by one space.
    pub fn describe(&self) -> String {
        let mut lines = Vec::new();
        for rule in self.rules() {
            let explained = rule.evaluate("");
            lines.push(format!(
                "* {}",
                render(explained.message, &explained.format)
            ));
            for item in explained.items {
                lines.push(format!(" * {}", item.message));
            }
        }
        lines.join("\n")
    }

    fn rules(&self) -> Vec<Rule> {
        let length = Rule::Length(self.min_length());
        match self.level {
            PolicyLevel::None | PolicyLevel::Low => vec![length],
            PolicyLevel::Fair => vec![
                length,
                Rule::Contains(&[
                    CharClass::LowerCase,
                    CharClass::UpperCase,
                    CharClass::Numbers,
                ]),
            ],
            PolicyLevel::Good => vec![length, Rule::ContainsAtLeast(3)],
            PolicyLevel::Excellent => vec![
                length,
                Rule::ContainsAtLeast(3),
                Rule::IdenticalChars(EXCELLENT_MAX_IDENTICAL),
            ],
        }
    }
}

enum Rule {
    Length(u32),
    Contains(&'static [CharClass]),
    ContainsAtLeast(u32),
    IdenticalChars(u32),
}

impl Rule {
    fn evaluate(&self, password: &str) -> RuleReport {
        match *self {
            Rule::Length(min) => {
                // JavaScript's `.length` counts UTF-16 code units; `!!password` refuses the empty
                // password whatever the minimum (even 0).
                let length = password.encode_utf16().count();
                let verified =
                    !password.is_empty() && u32::try_from(length).unwrap_or(u32::MAX) >= min;
                if min == 1 {
                    RuleReport {
                        message: "Non-empty password required",
                        format: vec![],
                        code: "nonEmpty",
                        items: vec![],
                        verified,
                    }
                } else {
                    RuleReport {
                        message: "At least %d characters in length",
                        format: vec![FormatArg::Number(min)],
                        code: "lengthAtLeast",
                        items: vec![],
                        verified,
                    }
                }
            }
            Rule::Contains(classes) => {
                let items = items_for(classes, password);
                let verified = items.iter().all(|i| i.verified);
                RuleReport {
                    message: "Should contain:",
                    format: vec![],
                    code: "shouldContain",
                    items,
                    verified,
                }
            }
            Rule::ContainsAtLeast(at_least) => {
                let items = items_for(&CharClass::ALL, password);
                let present = items.iter().filter(|i| i.verified).count();
                RuleReport {
                    message: "Contain at least %d of the following %d types of characters:",
                    format: vec![
                        FormatArg::Number(at_least),
                        FormatArg::Number(CharClass::ALL.len() as u32),
                    ],
                    code: "containsAtLeast",
                    items,
                    verified: present >= at_least as usize,
                }
            }
            Rule::IdenticalChars(max) => {
                let example = "a".repeat(max as usize + 1);
                RuleReport {
                    message: "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                    format: vec![FormatArg::Number(max), FormatArg::Text(example)],
                    code: "identicalChars",
                    items: vec![],
                    // `if (!password) return false`: the empty password fails this rule too.
                    verified: !password.is_empty() && longest_run(password) <= max as usize,
                }
            }
        }
    }
}

fn items_for(classes: &[CharClass], password: &str) -> Vec<ItemReport> {
    classes
        .iter()
        .map(|c| ItemReport {
            message: c.message(),
            code: c.code(),
            verified: c.present_in(password),
        })
        .collect()
}

/// The longest run of identical UTF-16 code units, as password-sheriff compares `password[i]`: the
/// two halves of an astral character differ, and consecutive copies of one never form a run (so
/// "😀😀😀" passes `identicalChars`).
fn longest_run(password: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut previous = None;
    for c in password.encode_utf16() {
        run = if previous == Some(c) { run + 1 } else { 1 };
        previous = Some(c);
        longest = longest.max(run);
    }
    longest
}

/// printf-style `%d` / `%s` substitution, as password-sheriff's `format` helper does.
fn render(message: &str, format: &[FormatArg]) -> String {
    let mut out = String::with_capacity(message.len() + 8);
    let mut args = format.iter();
    let mut rest = message;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let spec = rest.get(pos + 1..pos + 2);
        match (spec, args.clone().next()) {
            (Some("d") | Some("s"), Some(arg)) => {
                args.next();
                match arg {
                    FormatArg::Number(n) => out.push_str(&n.to_string()),
                    FormatArg::Text(t) => out.push_str(t),
                }
                rest = &rest[pos + 2..];
            }
            _ => {
                out.push('%');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(level: PolicyLevel) -> PasswordPolicy {
        PasswordPolicy::new(level, None)
    }

    #[test]
    fn excellent_describes_like_password_sheriff() {
        assert_eq!(
            policy(PolicyLevel::Excellent).describe(),
            "* At least 10 characters in length\n\
             * Contain at least 3 of the following 4 types of characters:\n \
             * lower case letters (a-z)\n \
             * upper case letters (A-Z)\n \
             * numbers (i.e. 0-9)\n \
             * special characters (e.g. !@#$%^&*)\n\
             * No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"
        );
    }

    #[test]
    fn none_and_fair_describe() {
        assert_eq!(
            policy(PolicyLevel::None).describe(),
            "* Non-empty password required"
        );
        assert_eq!(
            policy(PolicyLevel::Low).describe(),
            "* At least 6 characters in length"
        );
        assert_eq!(
            policy(PolicyLevel::Fair).describe(),
            "* At least 8 characters in length\n* Should contain:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)"
        );
    }

    #[test]
    fn good_report_for_hello_matches_auth0() {
        let report = policy(PolicyLevel::Good).check("hello").expect_err("weak");
        assert_eq!(
            serde_json::to_value(report).expect("json"),
            json!({
              "rules": [
                { "message": "At least %d characters in length", "format": [8], "code": "lengthAtLeast", "verified": false },
                { "message": "Contain at least %d of the following %d types of characters:", "format": [3, 4], "code": "containsAtLeast", "verified": false,
                  "items": [
                    { "message": "lower case letters (a-z)", "code": "lowerCase", "verified": true },
                    { "message": "upper case letters (A-Z)", "code": "upperCase", "verified": false },
                    { "message": "numbers (i.e. 0-9)", "code": "numbers", "verified": false },
                    { "message": "special characters (e.g. !@#$%^&*)", "code": "specialCharacters", "verified": false } ] } ],
              "verified": false
            })
        );
    }

    #[test]
    fn levels_accept_and_refuse() {
        let cases: &[(PolicyLevel, &str, bool)] = &[
            (PolicyLevel::None, "", false),
            (PolicyLevel::None, "a", true),
            (PolicyLevel::Low, "abcde", false),
            (PolicyLevel::Low, "abcdef", true),
            (PolicyLevel::Fair, "abcdefgh", false),
            (PolicyLevel::Fair, "Abcdefg1", true),
            (PolicyLevel::Fair, "ABCDEFG1!", false),
            (PolicyLevel::Good, "abcdefg1", false),
            (PolicyLevel::Good, "abcdefg1!", true),
            (PolicyLevel::Good, "Abcdefg1", true),
            (PolicyLevel::Good, "ab cdef1", true),
            (PolicyLevel::Excellent, "Abcdefg1!", false),
            (PolicyLevel::Excellent, "Abcdefgh1!", true),
            (PolicyLevel::Excellent, "Abcdefff1!", false),
            (PolicyLevel::Excellent, "Abcdeff1!x", true),
        ];
        for (level, password, ok) in cases {
            assert_eq!(
                policy(*level).check(password).is_ok(),
                *ok,
                "{level:?} {password:?}"
            );
        }
    }

    #[test]
    fn non_ascii_counts_for_no_class_and_length_is_utf16() {
        // "ÄÖÜäöüßé" is 8 UTF-16 units, but none of the classes.
        assert!(policy(PolicyLevel::Good).check("ÄÖÜäöüßé").is_err());
        // An astral character is two UTF-16 units, as in JavaScript.
        assert!(policy(PolicyLevel::Low).check("😀😀😀").is_ok());
    }

    #[test]
    fn identical_chars_counts_utf16_units_and_refuses_empty() {
        let excellent = policy(PolicyLevel::Excellent);
        // password-sheriff compares `password[i]`, UTF-16 units: repeated astral characters
        // alternate between two surrogates and never form a run.
        assert!(excellent.check("Ab1!xyz😀😀😀").is_ok());
        assert!(excellent.check("Ab1!xyzééé").is_err());
        // `if (!password) return false`: every rule, identicalChars included, fails "".
        let empty = excellent.report("");
        assert!(empty.rules.iter().all(|r| !r.verified));
    }

    #[test]
    fn report_keys_are_in_password_sheriff_order() {
        // Byte for byte what password-sheriff 2.0.0's JSON.stringify(missing(..)) gives.
        let to_string =
            |level, password| serde_json::to_string(&policy(level).report(password)).expect("json");
        assert_eq!(
            to_string(PolicyLevel::Excellent, "aaa"),
            concat!(
                r#"{"rules":[{"message":"At least %d characters in length","format":[10],"code":"lengthAtLeast","verified":false},"#,
                r#"{"message":"Contain at least %d of the following %d types of characters:","code":"containsAtLeast","format":[3,4],"items":["#,
                r#"{"message":"lower case letters (a-z)","code":"lowerCase","verified":true},"#,
                r#"{"message":"upper case letters (A-Z)","code":"upperCase","verified":false},"#,
                r#"{"message":"numbers (i.e. 0-9)","code":"numbers","verified":false},"#,
                r#"{"message":"special characters (e.g. !@#$%^&*)","code":"specialCharacters","verified":false}],"verified":false},"#,
                r#"{"message":"No more than %d identical characters in a row (e.g., \"%s\" not allowed)","code":"identicalChars","format":[2,"aaa"],"verified":false}],"verified":false}"#,
            )
        );
        assert_eq!(
            to_string(PolicyLevel::Fair, ""),
            concat!(
                r#"{"rules":[{"message":"At least %d characters in length","format":[8],"code":"lengthAtLeast","verified":false},"#,
                r#"{"message":"Should contain:","code":"shouldContain","verified":false,"items":["#,
                r#"{"message":"lower case letters (a-z)","code":"lowerCase","verified":false},"#,
                r#"{"message":"upper case letters (A-Z)","code":"upperCase","verified":false},"#,
                r#"{"message":"numbers (i.e. 0-9)","code":"numbers","verified":false}]}],"verified":false}"#,
            )
        );
    }

    #[test]
    fn complexity_min_length_overrides() {
        let p = PasswordPolicy::new(PolicyLevel::Good, Some(12));
        assert!(p.check("Abcdefg1!").is_err());
        assert!(p.check("Abcdefg1!xyz").is_ok());
        assert!(
            p.describe()
                .starts_with("* At least 12 characters in length")
        );
    }
}

//! Reading the server's answers tolerantly: only what vboctl needs is required.
//!
//! An organization needs `id`, `name` and `type`; everything else may be missing, `null`,
//! spelled in another case, a string boolean, or something this version of vboctl does not
//! know, and is then "not reported" rather than a failure of the whole answer. The reading
//! itself is [`vbo_model::lenient`], the same Json.NET-like reading the emulator gives request
//! bodies.

use std::collections::HashSet;
use std::sync::LazyLock;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;

use reqwest::{Method, StatusCode};
use vbo_model::lenient::{Json, Lenient};
use vbo_model::{Dialect, Organization};

use crate::{Client, ClientError, Idempotency};

/// The reader of one organization, built once from its schema.
static ORGANIZATION: LazyLock<Lenient> = LazyLock::new(Lenient::of::<Organization>);

/// How many organizations to ask for per page where the list is paged. The server caps it at
/// its own maximum (10,000 for v8) and says so in the page's `limit`.
const PAGE_SIZE: u32 = 1000;

/// How many times a list that changed while it was paged is read again from the start.
const MAX_LIST_READS: u32 = 5;

/// Reads one organization from an answer's body, as `dialect` reports it.
pub(crate) fn organization(bytes: &[u8], dialect: &Dialect) -> Result<Organization, String> {
    let json = Json::parse(bytes).ok_or_else(|| "the body is not JSON".to_owned())?;
    read_organization(json, None, dialect)
}

fn read_organization(
    json: Json,
    index: Option<usize>,
    dialect: &Dialect,
) -> Result<Organization, String> {
    let mut organization: Organization = ORGANIZATION.read_response(json).map_err(|error| {
        let place = index.map_or_else(String::new, |index| format!("organization #{index}: "));
        format!("{place}{error}")
    })?;
    dialect.forget_write_only(&mut organization);
    // vboctl follows no link: a list of thousands of organizations would otherwise keep every
    // one of their links in memory until the plan is made.
    organization.links = None;
    organization.actions = None;
    Ok(organization)
}

/// A list answer: its organizations and, where the server paged it, where the page stands.
struct ListAnswer {
    organizations: Vec<Organization>,
    page: Option<PageInfo>,
}

/// What a page says about itself.
struct PageInfo {
    limit: Option<u64>,
    set_id: Option<String>,
}

/// Reads a list answer in either shape: a plain array (v3, v6, v7) or a page object with
/// `results` (v8). Which one does not depend on the version asked: a server is believed.
fn list_answer(bytes: &[u8], first_index: usize, dialect: &Dialect) -> Result<ListAnswer, String> {
    let json = Json::parse(bytes).ok_or_else(|| "the body is not JSON".to_owned())?;
    let (items, page) = match json.into_array() {
        Ok(items) => (items, None),
        Err(json) => {
            let page = PageInfo {
                limit: json.member("limit").and_then(|limit| limit.as_u64()),
                set_id: json
                    .member("setId")
                    .and_then(|id| id.as_str().map(str::to_owned)),
            };
            let results = json
                .into_member("results")
                .and_then(|results| results.into_array().ok())
                .ok_or_else(|| {
                    "expected a list of organizations or a page with `results`".to_owned()
                })?;
            (results, Some(page))
        }
    };
    let organizations = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| read_organization(item, Some(first_index + index + 1), dialect))
        .collect::<Result<_, _>>()?;
    Ok(ListAnswer {
        organizations,
        page,
    })
}

/// Why a paged read must start again.
enum Restart {
    /// The page's `setId` differs from the first page's: the list changed.
    SetChanged,
    /// An organization came twice: the list shifted between pages.
    Repeated,
}

/// At most how many pages are asked for at once while a paged list is read.
const PAGES_AHEAD: usize = 4;

/// The smallest page a list of known length is split into.
const SMALLEST_SPLIT_PAGE: usize = 100;

/// One page, asked for at `offset`, as it was answered.
struct Page {
    offset: usize,
    answer: ListAnswer,
}

/// Asks for the page of `limit` organizations at `offset` (the whole list when `paged` is
/// false) and reads it.
async fn read_page(
    client: &Client,
    paged: bool,
    offset: usize,
    limit: usize,
) -> Result<Page, ClientError> {
    let path = if paged {
        format!("Organizations?offset={offset}&limit={limit}")
    } else {
        "Organizations".to_owned()
    };
    let response = client
        .send(Method::GET, &path, None, Idempotency::Idempotent)
        .await?;
    let bytes = client
        .expect_body(Method::GET, "Organizations", response, &[StatusCode::OK])
        .await?;
    let answer = list_answer(&bytes, offset, client.dialect)
        .map_err(|detail| client.unexpected(Method::GET, "Organizations", 200, detail))?;
    Ok(Page { offset, answer })
}

/// Every organization, following pages until a short one.
///
/// A plan must come from a complete list: one that stopped at the server's default page of 30
/// would make every organization after it look missing, and be created again. So the list is
/// read page after page, and read again from the start when it changed meanwhile (another
/// `setId`, or an organization seen twice); pages are never merged across two states.
///
/// Pages are asked for before the earlier ones are read ([`PAGES_AHEAD`] at a time), so that
/// the server prepares one while vboctl reads another: from the start, the pages that
/// `expected` organizations fill; past them, further pages once a full page shows that the
/// list goes on. Pages are still taken in order, and any asked for past the end are dropped
/// unread. A list expected to fit in fewer pages than are asked for at once is asked for in
/// smaller pages (of at least [`SMALLEST_SPLIT_PAGE`]), so that the server builds them side
/// by side: apply's verification of 1,000 organizations reads four pages of 251 together
/// rather than one of 1,000 and an empty one.
pub(crate) async fn list(
    client: &Client,
    expected: usize,
) -> Result<Vec<Organization>, ClientError> {
    let mut page_size = (PAGE_SIZE.min(client.dialect.max_page)) as usize;
    if expected > 0 {
        // The pages that hold `expected` and the one past them, all asked for at once.
        let split = (expected + 1)
            .div_ceil(PAGES_AHEAD)
            .max(SMALLEST_SPLIT_PAGE);
        page_size = page_size.min(split);
    }
    let mut reads = 0;
    'read: loop {
        reads += 1;
        let mut organizations: Vec<Organization> = Vec::with_capacity(expected);
        let mut seen = HashSet::with_capacity(expected);
        let mut first_set = None;
        // Asked for pages where the version pages; followed page by page wherever an answer
        // turns out to be one, whatever the version: the server is believed.
        let mut paged = client.dialect.paged_list;
        // Pages asked for and not yet read, in order, and the offset of the next to ask for.
        let mut in_flight = FuturesOrdered::new();
        let mut next_offset = 0;
        // Up to this offset the pages are expected to exist; past it, more are asked for
        // ahead only once a full page showed that the list goes on.
        let expected_end = if paged && expected > 0 {
            (expected / page_size + 1) * page_size
        } else {
            0
        };
        let mut goes_on = false;
        loop {
            while in_flight.is_empty()
                || (in_flight.len() < PAGES_AHEAD && (next_offset < expected_end || goes_on))
            {
                in_flight.push_back(read_page(client, paged, next_offset, page_size));
                next_offset += page_size;
            }
            // A page was just asked for if none was in flight.
            let Some(page) = in_flight.next().await else {
                return Err(client.unexpected(Method::GET, "Organizations", 200, "no page".into()));
            };
            let Page { offset, answer } = page?;
            if offset != organizations.len() {
                // The server answered shorter pages than asked (its own maximum): the pages
                // asked for ahead start at the wrong places. Ask again from here.
                in_flight = FuturesOrdered::new();
                next_offset = organizations.len();
                goes_on = false;
                continue;
            }
            let count = answer.organizations.len();
            let Some(page) = answer.page else {
                // Not paged: the whole list at once.
                return Ok(answer.organizations);
            };
            let restart = if organizations.is_empty() {
                first_set = page.set_id.clone();
                None
            } else if page.set_id != first_set {
                Some(Restart::SetChanged)
            } else {
                None
            };
            let restart = restart.or_else(|| {
                answer
                    .organizations
                    .iter()
                    .any(|organization| !seen.insert(organization.id.to_lowercase()))
                    .then_some(Restart::Repeated)
            });
            if let Some(restart) = restart {
                let why = match restart {
                    Restart::SetChanged => "the list changed between pages",
                    Restart::Repeated => "an organization appeared on two pages",
                };
                if reads >= MAX_LIST_READS {
                    return Err(ClientError::ListUnstable {
                        server: client.server.clone(),
                        reads,
                    });
                }
                tracing::debug!("reading the organizations again: {why}");
                continue 'read;
            }
            organizations.extend(answer.organizations);
            let limit = page.limit.map_or(page_size, |limit| limit as usize);
            if count == 0 || count < limit {
                // The list grew by doubling; at tens of thousands of organizations the unused
                // end would be megabytes held for the rest of the run.
                organizations.shrink_to_fit();
                return Ok(organizations);
            }
            if !paged {
                // A page, although this version does not page: follow it, asking for pages of
                // the usual size from here.
                paged = true;
                next_offset = organizations.len();
            } else if limit < page_size {
                // The server pages by less than asked (its own maximum): the pages asked for
                // ahead start at the wrong places. Ask again from here, at its size.
                page_size = count;
                in_flight = FuturesOrdered::new();
                next_offset = organizations.len();
            }
            goes_on = organizations.len() >= expected_end;
        }
    }
}

/// The message of an error answer, in one line, whatever its shape: `{"message"}` (with an
/// `errorCode` from v7 on), OAuth's `{"error", "error_description"}`, an HTML page, plain text
/// or nothing.
pub(crate) fn error_message(bytes: &[u8]) -> String {
    if let Some(json) = Json::parse(bytes)
        && json.is_object()
    {
        let text = |name: &str| {
            json.member(name)
                .and_then(|value| value.as_str().map(str::to_owned))
                .filter(|text| !text.trim().is_empty())
        };
        let message = text("message")
            .or_else(|| text("error_description"))
            .or_else(|| text("error"));
        let code =
            text("errorCode").or_else(|| text("error").filter(|_| text("message").is_none()));
        match (message, code) {
            (Some(message), Some(code)) if message != code => {
                return one_line(&format!("{message} ({code})"));
            }
            (Some(message), _) => return one_line(&message),
            (None, Some(code)) => return one_line(&code),
            (None, None) => {}
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let text = if looks_like_html(&text) {
        html_text(&text)
    } else {
        text.into_owned()
    };
    let text = one_line(&text);
    if text.is_empty() {
        "(no message)".to_owned()
    } else {
        text
    }
}

/// At most 200 characters of `text`, its white space folded into single spaces.
fn one_line(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let excerpt: String = folded.chars().take(200).collect();
    if excerpt.len() < folded.len() {
        format!("{excerpt}…")
    } else {
        excerpt
    }
}

fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start().to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html") || start.contains("<body")
}

/// The `<title>` of an HTML page, or its text without tags.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
    {
        let title = html[start + 7..end].trim();
        if !title.is_empty() {
            return title.to_owned();
        }
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_of_every_shape_become_one_line() {
        for (body, message) in [
            (
                r#"{"message":"Organization x has already been added."}"#,
                "Organization x has already been added.",
            ),
            (
                r#"{"message":"Not found.","errorCode":"ResourceNotFound","stackTrace":null}"#,
                "Not found. (ResourceNotFound)",
            ),
            (
                r#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#,
                "The user name or password is incorrect. (invalid_grant)",
            ),
            (r#"{"Message":"upper\ncase"}"#, "upper case"),
            (
                "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>x</body></html>",
                "503 Service Unavailable",
            ),
            (
                "<html><body><h1>Bad\n Gateway</h1></body></html>",
                "Bad Gateway",
            ),
            ("", "(no message)"),
            ("   \n", "(no message)"),
            ("plain text", "plain text"),
            ("{}", "{}"),
        ] {
            assert_eq!(error_message(body.as_bytes()), message, "{body}");
        }
    }

    #[test]
    fn an_organization_needs_only_id_name_and_type() {
        let v8 = vbo_model::RestApiVersion::V8.dialect();
        let organization =
            organization(br#"{"id":"1","name":"a","type":"office365"}"#, v8).unwrap();
        assert_eq!(organization.name, "a");
        for missing in [
            r#"{"name":"a","type":"Office365"}"#,
            r#"{"id":"1","type":"Office365"}"#,
            r#"{"id":"1","name":"a"}"#,
            r#"{"id":null,"name":"a","type":"Office365"}"#,
        ] {
            assert!(
                super::organization(missing.as_bytes(), v8).is_err(),
                "{missing}"
            );
        }
    }

    #[test]
    fn lists_come_as_arrays_or_pages() {
        let v8 = vbo_model::RestApiVersion::V8.dialect();
        let array = list_answer(br#"[{"id":"1","name":"a","type":"Hybrid"}]"#, 0, v8).unwrap();
        assert_eq!(array.organizations.len(), 1);
        assert!(array.page.is_none());
        let page = list_answer(
            br#"{"Offset":0,"LIMIT":"30","setId":"s","results":[{"id":"1","name":"a","type":"Hybrid"}],"_links":{}}"#,
            0,
            v8,
        )
        .unwrap();
        let info = page.page.unwrap();
        assert_eq!((info.limit, info.set_id.as_deref()), (Some(30), Some("s")));
        let error = list_answer(
            br#"[{"id":"1","name":"a","type":"Hybrid"},{"id":"2"}]"#,
            30,
            v8,
        )
        .err()
        .unwrap();
        assert!(error.starts_with("organization #32: "), "{error}");
    }
}

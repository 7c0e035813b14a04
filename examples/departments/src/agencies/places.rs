//! Where on-site checks happen: the Border Control Posts (BCPs) and the ports each serves, as
//! in the hub's list of places.

use super::consignment::Consignment;

/// Each BCP and the ports (UN/LOCODEs) whose consignments it inspects.
const BORDER_CONTROL_POSTS: &[(&str, &[&str])] = &[
    ("GBSEV1", &["GBDOV", "GBFOL"]),
    ("GBFXT1", &["GBFXT"]),
    ("GBSOU1", &["GBSOU"]),
    ("GBLGP1", &["GBLGP", "GBTIL"]),
    ("GBIMM1", &["GBIMM", "GBHUL"]),
    ("GBLHR1", &["GBLHR"]),
    ("GBPME1", &["GBPME", "GBPOO"]),
    ("GBHLY1", &["GBHLY"]),
    ("GBLIV1", &["GBLIV"]),
];

/// The BCP serving `port`, if it has one.
pub fn post_serving(port: &str) -> Option<&'static str> {
    BORDER_CONTROL_POSTS
        .iter()
        .find(|(_, ports)| ports.contains(&port))
        .map(|(post, _)| *post)
}

/// Where an agency can inspect the goods, best first: the declared BCP, then the BCP serving
/// the port of entry; the port itself when neither is known (the hub then chooses).
pub fn inspection_posts(consignment: &Consignment) -> Vec<String> {
    let mut posts: Vec<String> = consignment.border_control_post.iter().cloned().collect();
    if let Some(post) = post_serving(&consignment.port_of_entry) {
        if !posts.iter().any(|p| p == post) {
            posts.push(post.to_string());
        }
    }
    if posts.is_empty() {
        posts.push(consignment.port_of_entry.clone());
    }
    posts
}

/// As [`inspection_posts`], then the port of entry itself, where Border Force also works.
pub fn inspection_posts_and_port(consignment: &Consignment) -> Vec<String> {
    let mut places = inspection_posts(consignment);
    if !places.contains(&consignment.port_of_entry) {
        places.push(consignment.port_of_entry.clone());
    }
    places
}

//! The fixed data every benchmark subgraph serves: users, products, stock and
//! reviews, generated deterministically so that every gateway sees the same
//! bytes and a response can be compared across gateways.
//!
//! Sizes are chosen so that the deep query (users → reviews → product →
//! reviews → author → reviews → product, and the same from the top products)
//! answers with about 87 KB of JSON, like the public gateways benchmark.

use std::sync::OnceLock;

/// How many users the users subgraph holds.
pub const USER_COUNT: usize = 6;
/// How many products the products subgraph holds (the large-list query reads
/// many of them).
pub const PRODUCT_COUNT: usize = 2_000;
/// How many reviews the reviews subgraph holds.
pub const REVIEW_COUNT: usize = 12;
/// How many distinct products the reviews are about (products 1..=N).
pub const REVIEWED_PRODUCT_COUNT: usize = 4;

/// A user as the users subgraph owns it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub username: String,
    pub birthday: i32,
}

/// A product as the products subgraph owns it.
#[derive(Debug, Clone)]
pub struct ProductRecord {
    pub upc: String,
    pub name: String,
    pub price: i64,
    pub weight: i64,
}

/// A review as the reviews subgraph owns it.
#[derive(Debug, Clone)]
pub struct ReviewRecord {
    pub id: String,
    pub body: String,
    pub product_upc: String,
    pub author_id: String,
}

/// Everything, built once.
#[derive(Debug)]
pub struct Catalogue {
    pub users: Vec<UserRecord>,
    pub products: Vec<ProductRecord>,
    pub reviews: Vec<ReviewRecord>,
}

impl Catalogue {
    /// The one shared catalogue.
    pub fn get() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(Catalogue::build)
    }

    fn build() -> Catalogue {
        Catalogue {
            users: (1..=USER_COUNT).map(user).collect(),
            products: (1..=PRODUCT_COUNT).map(product).collect(),
            reviews: (1..=REVIEW_COUNT).map(review).collect(),
        }
    }

    pub fn user(&self, id: &str) -> Option<&UserRecord> {
        index_of(id, self.users.len()).map(|i| &self.users[i])
    }

    pub fn product(&self, upc: &str) -> Option<&ProductRecord> {
        index_of(upc, self.products.len()).map(|i| &self.products[i])
    }

    pub fn review(&self, id: &str) -> Option<&ReviewRecord> {
        index_of(id, self.reviews.len()).map(|i| &self.reviews[i])
    }

    pub fn reviews_by_author(&self, author_id: &str) -> Vec<&ReviewRecord> {
        self.reviews
            .iter()
            .filter(|r| r.author_id == author_id)
            .collect()
    }

    pub fn reviews_of_product(&self, upc: &str) -> Vec<&ReviewRecord> {
        self.reviews
            .iter()
            .filter(|r| r.product_upc == upc)
            .collect()
    }
}

/// Identifiers are "1".."n"; anything else is not found.
fn index_of(id: &str, len: usize) -> Option<usize> {
    let n: usize = id.parse().ok()?;
    (1..=len).contains(&n).then(|| n - 1)
}

/// Whether a product is in stock, as the inventory subgraph answers.
pub fn in_stock(upc: &str) -> bool {
    upc.bytes().fold(0u32, |acc, b| acc + u32::from(b)) % 3 != 0
}

/// The shipping estimate the inventory subgraph derives from the price and
/// weight it requires from the products subgraph.
pub fn shipping_estimate(price: i64, weight: i64) -> i64 {
    if price > 1_000 {
        0
    } else {
        weight / 2
    }
}

const GIVEN_NAMES: [&str; USER_COUNT] = ["Ada", "Brendan", "Chiara", "Dafydd", "Eilidh", "Femi"];
const FAMILY_NAMES: [&str; USER_COUNT] = [
    "Lovelace",
    "Okafor",
    "Rossi",
    "Pritchard",
    "MacLeod",
    "Adeyemi",
];

fn user(n: usize) -> UserRecord {
    let given = GIVEN_NAMES[(n - 1) % USER_COUNT];
    let family = FAMILY_NAMES[(n - 1) % USER_COUNT];
    UserRecord {
        id: n.to_string(),
        name: format!("{given} {family}"),
        username: format!("{}{}", given.to_lowercase(), n),
        birthday: 631_152_000 + (n as i32) * 86_400 * 97,
    }
}

const MATERIALS: [&str; 8] = [
    "Oak", "Walnut", "Steel", "Linen", "Rattan", "Glass", "Velvet", "Bamboo",
];
const ITEMS: [&str; 9] = [
    "Table", "Couch", "Tumbler", "Chair", "Screen", "Lamp", "Grill", "Fridge", "Sofa",
];

fn product(n: usize) -> ProductRecord {
    let seed = mix(n as u64);
    ProductRecord {
        upc: n.to_string(),
        name: format!(
            "{} {}",
            MATERIALS[(seed % 8) as usize],
            ITEMS[(n - 1) % ITEMS.len()]
        ),
        price: 10 + (seed % 9_990) as i64,
        weight: 5 + ((seed >> 16) % 3_000) as i64,
    }
}

const WORDS: [&str; 48] = [
    "arrived",
    "quickly",
    "sturdy",
    "finish",
    "colour",
    "matches",
    "photos",
    "assembly",
    "took",
    "minutes",
    "instructions",
    "clear",
    "screws",
    "missing",
    "support",
    "replaced",
    "them",
    "comfortable",
    "enough",
    "for",
    "long",
    "evenings",
    "would",
    "buy",
    "again",
    "packaging",
    "recyclable",
    "delivery",
    "window",
    "kept",
    "the",
    "driver",
    "careful",
    "surface",
    "scratches",
    "easily",
    "but",
    "cleans",
    "well",
    "price",
    "fair",
    "quality",
    "solid",
    "legs",
    "wobble",
    "slightly",
    "overall",
    "pleased",
];

/// Review bodies of varied length, from a fixed word list and a fixed seed.
fn review(n: usize) -> ReviewRecord {
    const LENGTHS: [usize; 4] = [83, 53, 47, 30];
    let words = LENGTHS[(n - 1) % LENGTHS.len()] + (n % 3) * 7;
    let mut state = mix(n as u64 * 7_919);
    let mut body = String::new();
    for i in 0..words {
        state = mix(state);
        let word = WORDS[(state % WORDS.len() as u64) as usize];
        if i > 0 {
            body.push(' ');
        }
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                body.extend(first.to_uppercase());
                body.push_str(chars.as_str());
            }
        } else {
            body.push_str(word);
        }
    }
    body.push('.');
    ReviewRecord {
        id: n.to_string(),
        body,
        product_upc: (((n - 1) % REVIEWED_PRODUCT_COUNT) + 1).to_string(),
        author_id: (((n - 1) % USER_COUNT) + 1).to_string(),
    }
}

/// A small fixed mixing function (splitmix64), for reproducible data.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

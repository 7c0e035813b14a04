//! Four small federation subgraphs (accounts, products, reviews, inventory)
//! written with async-graphql, matching tests/fixtures/shop.supergraph.graphql.

use async_graphql::{
    EmptyMutation, EmptySubscription, Interface, Object, Result, Schema, SimpleObject, Union, ID,
};

#[derive(Clone)]
pub struct AccountsUser {
    id: ID,
    name: String,
    username: Option<String>,
}

#[Object(name = "User")]
impl AccountsUser {
    async fn id(&self) -> &ID {
        &self.id
    }
    async fn name(&self) -> &str {
        &self.name
    }
    async fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
}

fn accounts_users() -> Vec<AccountsUser> {
    vec![
        AccountsUser {
            id: "u1".into(),
            name: "Ada Lovelace".into(),
            username: Some("ada".into()),
        },
        AccountsUser {
            id: "u2".into(),
            name: "Alan Turing".into(),
            username: Some("alan".into()),
        },
    ]
}

pub struct AccountsQuery;

#[Object(name = "Query")]
impl AccountsQuery {
    async fn me(&self) -> Option<AccountsUser> {
        accounts_users().into_iter().next()
    }
    async fn users(&self) -> Vec<AccountsUser> {
        accounts_users()
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<AccountsUser> {
        accounts_users().into_iter().find(|u| u.id == id)
    }
}

pub type AccountsSchema = Schema<AccountsQuery, EmptyMutation, EmptySubscription>;

pub fn accounts() -> AccountsSchema {
    Schema::build(AccountsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

#[derive(Clone, SimpleObject)]
#[graphql(name = "Product")]
pub struct CatalogueProduct {
    upc: String,
    name: String,
    price: i32,
    weight: i32,
    internal_code: Option<String>,
}

fn catalogue() -> Vec<CatalogueProduct> {
    [
        ("p1", "Table", 899, 100),
        ("p2", "Couch", 1299, 1000),
        ("p3", "Chair", 54, 50),
    ]
    .into_iter()
    .map(|(upc, name, price, weight)| CatalogueProduct {
        upc: upc.into(),
        name: name.into(),
        price,
        weight,
        internal_code: Some(format!("INT-{upc}")),
    })
    .collect()
}

#[derive(Clone, SimpleObject)]
pub struct Book {
    id: ID,
    title: String,
    pages: i32,
}

#[derive(Clone, SimpleObject)]
pub struct Movie {
    id: ID,
    title: String,
    minutes: i32,
}

#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"), field(name = "title", ty = "&String"))]
pub enum Media {
    Book(Book),
    Movie(Movie),
}

#[derive(Union)]
pub enum SearchResult {
    Book(Book),
    Movie(Movie),
    Product(CatalogueProduct),
}

fn dune() -> Book {
    Book {
        id: "b1".into(),
        title: "Dune".into(),
        pages: 412,
    }
}

fn alien() -> Movie {
    Movie {
        id: "m1".into(),
        title: "Alien".into(),
        minutes: 117,
    }
}

pub struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(&self, #[graphql(default = 5)] first: i32) -> Vec<CatalogueProduct> {
        catalogue()
            .into_iter()
            .take(usize::try_from(first).unwrap_or(0))
            .collect()
    }
    async fn product(&self, upc: String) -> Option<CatalogueProduct> {
        catalogue().into_iter().find(|p| p.upc == upc)
    }
    async fn media(&self) -> Vec<Media> {
        vec![Media::Book(dune()), Media::Movie(alien())]
    }
    async fn search(&self, term: String) -> Vec<SearchResult> {
        let _ = term;
        vec![
            SearchResult::Book(dune()),
            SearchResult::Movie(alien()),
            SearchResult::Product(catalogue().remove(0)),
        ]
    }
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<CatalogueProduct> {
        catalogue().into_iter().find(|p| p.upc == upc)
    }
}

pub type ProductsSchema = Schema<ProductsQuery, EmptyMutation, EmptySubscription>;

pub fn products() -> ProductsSchema {
    Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
        .register_output_type::<Media>()
        .enable_federation()
        .finish()
}

#[derive(Clone)]
pub struct Review {
    id: &'static str,
    product: &'static str,
    author: &'static str,
    body: &'static str,
    rating: i32,
}

fn all_reviews() -> Vec<Review> {
    vec![
        Review {
            id: "r1",
            product: "p1",
            author: "u1",
            body: "Love it",
            rating: 5,
        },
        Review {
            id: "r2",
            product: "p1",
            author: "u2",
            body: "Too expensive",
            rating: 2,
        },
        Review {
            id: "r3",
            product: "p2",
            author: "u404",
            body: "Comfy",
            rating: 4,
        },
        Review {
            id: "r4",
            product: "p3",
            author: "u1",
            body: "",
            rating: 3,
        },
    ]
}

fn username_of(id: &str) -> Option<String> {
    match id {
        "u1" => Some("ada".into()),
        "u2" => Some("alan".into()),
        _ => None,
    }
}

#[Object]
impl Review {
    async fn id(&self) -> ID {
        self.id.into()
    }
    /// Review r4 fails, so error paths can be checked.
    async fn body(&self) -> Result<Option<&str>> {
        if self.id == "r4" {
            return Err("review body is unreadable".into());
        }
        Ok(Some(self.body))
    }
    async fn rating(&self) -> i32 {
        self.rating
    }
    async fn author(&self) -> Option<ReviewsUser> {
        Some(ReviewsUser {
            id: self.author.into(),
            username: username_of(self.author),
        })
    }
    async fn product(&self) -> ReviewsProduct {
        ReviewsProduct {
            upc: self.product.into(),
        }
    }
}

pub struct ReviewsUser {
    id: ID,
    username: Option<String>,
}

#[Object(name = "User")]
impl ReviewsUser {
    async fn id(&self) -> &ID {
        &self.id
    }
    #[graphql(external)]
    async fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
    async fn reviews(&self) -> Vec<Review> {
        all_reviews()
            .into_iter()
            .filter(|r| r.author == self.id.as_str())
            .collect()
    }
}

pub struct ReviewsProduct {
    upc: String,
}

#[Object(name = "Product")]
impl ReviewsProduct {
    async fn upc(&self) -> &str {
        &self.upc
    }
    async fn reviews(&self) -> Vec<Review> {
        all_reviews()
            .into_iter()
            .filter(|r| r.product == self.upc)
            .collect()
    }
}

pub struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    async fn reviews(&self) -> Vec<Review> {
        all_reviews()
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> ReviewsUser {
        let username = username_of(&id);
        ReviewsUser { id, username }
    }
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> ReviewsProduct {
        ReviewsProduct { upc }
    }
}

pub type ReviewsSchema = Schema<ReviewsQuery, EmptyMutation, EmptySubscription>;

pub fn reviews() -> ReviewsSchema {
    Schema::build(ReviewsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct InventoryProduct {
    upc: String,
    price: Option<i32>,
    weight: Option<i32>,
}

#[Object(name = "Product")]
impl InventoryProduct {
    async fn upc(&self) -> &str {
        &self.upc
    }
    async fn in_stock(&self) -> bool {
        self.upc != "p2"
    }
    /// Free shipping above 1000; otherwise half the weight. Needs both.
    async fn shipping_estimate(&self) -> Result<i32> {
        match (self.price, self.weight) {
            (Some(price), Some(weight)) => Ok(if price > 1000 { 0 } else { weight / 2 }),
            _ => Err("price and weight are required".into()),
        }
    }
}

pub struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> InventoryProduct {
        InventoryProduct { upc, price, weight }
    }
}

pub type InventorySchema = Schema<InventoryQuery, EmptyMutation, EmptySubscription>;

pub fn inventory() -> InventorySchema {
    Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

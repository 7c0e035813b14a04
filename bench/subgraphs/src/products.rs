//! The products subgraph: owns `Product` (upc, name, price, weight) and the
//! top-products list.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

use crate::catalogue::{Catalogue, ProductRecord};

pub type ProductsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> ProductsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct Product(&'static ProductRecord);

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.0.upc
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn price(&self) -> i64 {
        self.0.price
    }

    async fn weight(&self) -> i64 {
        self.0.weight
    }
}

pub struct Query;

#[Object]
impl Query {
    /// The first `first` products (negative counts as none).
    async fn top_products(&self, #[graphql(default = 5)] first: i32) -> Vec<Product> {
        let first = usize::try_from(first).unwrap_or(0);
        Catalogue::get()
            .products
            .iter()
            .take(first)
            .map(Product)
            .collect()
    }

    async fn product(&self, upc: String) -> Option<Product> {
        Catalogue::get().product(&upc).map(Product)
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
        Catalogue::get().product(&upc).map(Product)
    }
}

//! The inventory subgraph: adds stock and a shipping estimate to `Product`;
//! the estimate requires the product's price and weight from the products
//! subgraph (`@requires`).

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

use crate::catalogue::{self, Catalogue};

pub type InventorySchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> InventorySchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct Product {
    upc: String,
    price: Option<i64>,
    weight: Option<i64>,
}

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.upc
    }

    /// Owned by the products subgraph; only arrives in representations.
    #[graphql(external)]
    async fn price(&self) -> i64 {
        self.price.unwrap_or_default()
    }

    /// Owned by the products subgraph; only arrives in representations.
    #[graphql(external)]
    async fn weight(&self) -> i64 {
        self.weight.unwrap_or_default()
    }

    async fn in_stock(&self) -> bool {
        catalogue::in_stock(&self.upc)
    }

    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Option<i64> {
        Some(catalogue::shipping_estimate(self.price?, self.weight?))
    }
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i64>,
        weight: Option<i64>,
    ) -> Option<Product> {
        Catalogue::get().product(&upc)?;
        Some(Product { upc, price, weight })
    }
}

//! The reviews subgraph: owns `Review`, adds `reviews` to `User` and
//! `Product`, provides review authors' usernames (`@provides`), and has the
//! benchmark mutation `addReview`, which answers a draft review without
//! storing it (so repeated runs see the same data).

use std::borrow::Cow;

use async_graphql::{EmptySubscription, InputObject, Object, Schema, ID};

use crate::catalogue::{Catalogue, ReviewRecord};

pub type ReviewsSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn schema() -> ReviewsSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct Review(Cow<'static, ReviewRecord>);

#[Object]
impl Review {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    async fn product(&self) -> Product {
        Product {
            upc: self.0.product_upc.clone(),
        }
    }

    #[graphql(provides = "username")]
    async fn author(&self) -> Option<User> {
        Catalogue::get().user(&self.0.author_id).map(|u| User {
            id: u.id.clone(),
            username: Some(u.username.clone()),
        })
    }
}

pub struct User {
    id: String,
    username: Option<String>,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// Owned by the users subgraph; this one knows it only for review
    /// authors, which it provides.
    #[graphql(external)]
    async fn username(&self) -> &str {
        self.username.as_deref().unwrap_or_default()
    }

    async fn reviews(&self) -> Vec<Review> {
        Catalogue::get()
            .reviews_by_author(&self.id)
            .into_iter()
            .map(|r| Review(Cow::Borrowed(r)))
            .collect()
    }
}

pub struct Product {
    upc: String,
}

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.upc
    }

    async fn reviews(&self) -> Vec<Review> {
        Catalogue::get()
            .reviews_of_product(&self.upc)
            .into_iter()
            .map(|r| Review(Cow::Borrowed(r)))
            .collect()
    }
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_review_by_id(&self, id: ID) -> Option<Review> {
        Catalogue::get()
            .review(&id)
            .map(|r| Review(Cow::Borrowed(r)))
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        Catalogue::get().user(&id).map(|u| User {
            id: u.id.clone(),
            username: None,
        })
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
        Catalogue::get()
            .product(&upc)
            .map(|p| Product { upc: p.upc.clone() })
    }
}

/// A review as a client submits it.
#[derive(InputObject)]
pub struct ReviewInput {
    product_upc: String,
    author_id: ID,
    body: String,
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Answers the review as it would be stored; nothing is kept.
    async fn add_review(&self, input: ReviewInput) -> async_graphql::Result<Review> {
        let catalogue = Catalogue::get();
        if catalogue.product(&input.product_upc).is_none() {
            return Err("no such product".into());
        }
        if catalogue.user(&input.author_id).is_none() {
            return Err("no such author".into());
        }
        Ok(Review(Cow::Owned(ReviewRecord {
            id: format!("draft-{}-{}", input.product_upc, input.author_id.as_str()),
            body: input.body,
            product_upc: input.product_upc,
            author_id: input.author_id.0,
        })))
    }
}

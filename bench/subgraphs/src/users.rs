//! The users subgraph: owns `User` (id, name, username, birthday).

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, ID};

use crate::catalogue::{Catalogue, UserRecord};

pub type UsersSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> UsersSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct User(&'static UserRecord);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Shareable because the reviews subgraph provides it on review authors.
    #[graphql(shareable)]
    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn birthday(&self) -> i32 {
        self.0.birthday
    }
}

pub struct Query;

#[Object]
impl Query {
    async fn me(&self) -> Option<User> {
        Catalogue::get().users.first().map(User)
    }

    async fn user(&self, id: ID) -> Option<User> {
        Catalogue::get().user(&id).map(User)
    }

    async fn users(&self) -> Vec<User> {
        Catalogue::get().users.iter().map(User).collect()
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        Catalogue::get().user(&id).map(User)
    }
}

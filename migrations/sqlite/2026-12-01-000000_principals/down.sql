DROP TABLE auth_principals;

//! The SQLite and PostgreSQL migrations describe the same schema: applied to
//! fresh databases, both have the same tables, columns (names, nullability),
//! primary keys, unique constraints, indexes (names, columns, uniqueness,
//! partial-ness), foreign keys and checks (by the columns and values they
//! mention). Column types differ between the backends and are not compared.

use std::collections::{BTreeMap, BTreeSet};

use app::db::Db;

use crate::support::{fresh_database, Backend};

#[derive(Debug, Default, PartialEq)]
struct Table {
    /// Column name → NOT NULL (primary key columns count as NOT NULL).
    columns: BTreeMap<String, bool>,
    primary_key: Vec<String>,
    /// Column lists of UNIQUE constraints (their index names are the backend's own).
    unique: BTreeSet<Vec<String>>,
    indexes: BTreeMap<String, Index>,
    foreign_keys: BTreeSet<ForeignKey>,
    checks: BTreeSet<Check>,
}

#[derive(Debug, PartialEq)]
struct Index {
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    references: Vec<String>,
    on_delete: String,
}

/// A CHECK constraint as the columns and the string literals it mentions.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Check {
    columns: Vec<String>,
    literals: Vec<String>,
}

type Schema = BTreeMap<String, Table>;

/// An expression index's column, on either backend.
const EXPRESSION: &str = "<expression>";

fn csv(list: Option<String>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn sqlite_schema(db: &Db) -> Schema {
    let pool = &db.pool;
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name, sql) in &tables {
        let mut table = Table::default();
        let columns: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(name)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        for (column, not_null, pk) in columns {
            table
                .columns
                .insert(column.clone(), not_null != 0 || pk > 0);
            if pk > 0 {
                primary_key.push((pk, column));
            }
        }
        primary_key.sort();
        table.primary_key = primary_key.into_iter().map(|(_, column)| column).collect();

        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(name)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, origin, partial) in indexes {
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let columns: Vec<String> = columns
                .into_iter()
                .map(|(column,)| column.unwrap_or_else(|| EXPRESSION.to_owned()))
                .collect();
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    table.unique.insert(columns);
                }
                _ => {
                    table.indexes.insert(
                        index,
                        Index {
                            columns,
                            unique: unique != 0,
                            partial: partial != 0,
                        },
                    );
                }
            }
        }

        let keys: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1)
             ORDER BY id, seq",
        )
        .bind(name)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for (id, target, from, to, on_delete) in keys {
            let key = by_id.entry(id).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                table: target,
                references: Vec::new(),
                on_delete,
            });
            key.columns.push(from);
            // Without a column list a reference means the target's primary key.
            key.references.push(to.unwrap_or_else(|| "id".to_owned()));
        }
        table.foreign_keys = by_id.into_values().collect();
        table.checks = check_expressions(sql)
            .iter()
            .map(|expression| check(expression, &table.columns))
            .collect();
        schema.insert(name.clone(), table);
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let pool = &db.pool;
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
           AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    // The columns of key `k` of relation `rel`, in key order.
    let key_columns = |keys: &str, relation: &str| {
        format!(
            "(SELECT string_agg(COALESCE(a.attname::text, '{EXPRESSION}'), ',' ORDER BY k.ord)
              FROM unnest({keys}::int2[]) WITH ORDINALITY k(attnum, ord)
              LEFT JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum)"
        )
    };
    let mut schema = Schema::new();
    for (name,) in &tables {
        let mut table = Table::default();
        let columns: Vec<(String, i64)> = sqlx::query_as(
            "SELECT column_name::text, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END::bigint
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(name)
        .fetch_all(pool)
        .await
        .unwrap();
        for (column, not_null) in columns {
            table.columns.insert(column, not_null != 0);
        }

        let indexes: Vec<(String, i64, i64, i64, i64, Option<String>)> = sqlx::query_as(&format!(
            "SELECT i.relname::text,
                    CASE WHEN ix.indisprimary THEN 1 ELSE 0 END::bigint,
                    CASE WHEN ix.indisunique THEN 1 ELSE 0 END::bigint,
                    CASE WHEN ix.indpred IS NULL THEN 0 ELSE 1 END::bigint,
                    CASE WHEN EXISTS (SELECT 1 FROM pg_constraint c
                                      WHERE c.conindid = ix.indexrelid AND c.contype = 'u')
                         THEN 1 ELSE 0 END::bigint,
                    {}
             FROM pg_index ix
             JOIN pg_class i ON i.oid = ix.indexrelid
             JOIN pg_class t ON t.oid = ix.indrelid
             WHERE t.relname = $1 AND t.relnamespace = 'public'::regnamespace",
            key_columns("ix.indkey", "ix.indrelid")
        ))
        .bind(name)
        .fetch_all(pool)
        .await
        .unwrap();
        for (index, primary, unique, partial, constraint, columns) in indexes {
            let columns = csv(columns);
            if primary != 0 {
                table.primary_key = columns;
            } else if constraint != 0 {
                table.unique.insert(columns);
            } else {
                table.indexes.insert(
                    index,
                    Index {
                        columns,
                        unique: unique != 0,
                        partial: partial != 0,
                    },
                );
            }
        }

        let keys: Vec<(String, Option<String>, Option<String>, String)> =
            sqlx::query_as(&format!(
                "SELECT f.relname::text, {}, {},
                        CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                                           WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT'
                                           ELSE 'NO ACTION' END
                 FROM pg_constraint c
                 JOIN pg_class t ON t.oid = c.conrelid
                 JOIN pg_class f ON f.oid = c.confrelid
                 WHERE c.contype = 'f' AND t.relname = $1 AND t.relnamespace = 'public'::regnamespace",
                key_columns("c.conkey", "c.conrelid"),
                key_columns("c.confkey", "c.confrelid"),
            ))
            .bind(name)
            .fetch_all(pool)
            .await
            .unwrap();
        table.foreign_keys = keys
            .into_iter()
            .map(|(target, columns, references, on_delete)| ForeignKey {
                columns: csv(columns),
                table: target,
                references: csv(references),
                on_delete,
            })
            .collect();

        let checks: Vec<(String,)> = sqlx::query_as(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
             JOIN pg_class t ON t.oid = c.conrelid
             WHERE c.contype = 'c' AND t.relname = $1 AND t.relnamespace = 'public'::regnamespace",
        )
        .bind(name)
        .fetch_all(pool)
        .await
        .unwrap();
        table.checks = checks
            .iter()
            .flat_map(|(definition,)| check_expressions(definition))
            .map(|expression| check(&expression, &table.columns))
            .collect();
        schema.insert(name.clone(), table);
    }
    schema
}

/// The parenthesized expression after each `CHECK` in `sql` (outside string literals).
fn check_expressions(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut expressions = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        if chars[i] == '\'' {
            in_string = !in_string;
        } else if !in_string
            && sql_word_at(&chars, i, "CHECK")
            && (i == 0 || !is_identifier(chars[i - 1]))
        {
            let mut j = i + 5;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let (mut depth, start) = (0, j);
            let mut quoted = false;
            while j < chars.len() {
                match chars[j] {
                    '\'' => quoted = !quoted,
                    '(' if !quoted => depth += 1,
                    ')' if !quoted => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            expressions.push(chars[start..=j.min(chars.len() - 1)].iter().collect());
            i = j;
        }
        i += 1;
    }
    expressions
}

fn sql_word_at(chars: &[char], at: usize, word: &str) -> bool {
    let end = at + word.len();
    end <= chars.len()
        && chars[at..end]
            .iter()
            .zip(word.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
        && chars.get(end).is_none_or(|c| !is_identifier(*c))
}

fn is_identifier(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The table's columns and the string literals a check expression mentions.
fn check(expression: &str, columns: &BTreeMap<String, bool>) -> Check {
    let mut mentioned = BTreeSet::new();
    let mut literals = BTreeSet::new();
    let mut rest = expression;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let end = rest[1..].find('\'').map_or(rest.len(), |n| n + 2);
            literals.insert(rest[1..end.saturating_sub(1).max(1)].to_owned());
            rest = &rest[end..];
        } else if is_identifier(c) {
            let end = rest.find(|c| !is_identifier(c)).unwrap_or(rest.len());
            let word = rest[..end].trim_matches('"').to_ascii_lowercase();
            if columns.contains_key(&word) {
                mentioned.insert(word);
            }
            rest = &rest[end..];
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    Check {
        columns: mentioned.into_iter().collect(),
        literals: literals.into_iter().collect(),
    }
}

/// Every way the two schemas differ, one line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let names: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for name in names {
        let (Some(a), Some(b)) = (sqlite.get(name), postgres.get(name)) else {
            let only = if sqlite.contains_key(name) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            found.push(format!("table {name}: only in {only}"));
            continue;
        };
        let columns: BTreeSet<&String> = a.columns.keys().chain(b.columns.keys()).collect();
        for column in columns {
            let (x, y) = (a.columns.get(column), b.columns.get(column));
            if x != y {
                found.push(format!(
                    "{name}.{column}: NOT NULL on SQLite {x:?}, on PostgreSQL {y:?} (None: missing)"
                ));
            }
        }
        if a.primary_key != b.primary_key {
            found.push(format!(
                "{name}: primary key {:?} on SQLite, {:?} on PostgreSQL",
                a.primary_key, b.primary_key
            ));
        }
        for unique in a.unique.symmetric_difference(&b.unique) {
            found.push(format!("{name}: UNIQUE {unique:?} on one backend only"));
        }
        let indexes: BTreeSet<&String> = a.indexes.keys().chain(b.indexes.keys()).collect();
        for index in indexes {
            let (x, y) = (a.indexes.get(index), b.indexes.get(index));
            if x != y {
                found.push(format!(
                    "{name}: index {index} is {x:?} on SQLite, {y:?} on PostgreSQL"
                ));
            }
        }
        for key in a.foreign_keys.symmetric_difference(&b.foreign_keys) {
            found.push(format!("{name}: foreign key {key:?} on one backend only"));
        }
        for check in a.checks.symmetric_difference(&b.checks) {
            found.push(format!("{name}: CHECK {check:?} on one backend only"));
        }
    }
    found
}

async fn migrated(backend: Backend) -> Option<Db> {
    let url = fresh_database(backend).await?;
    Some(Db::connect(&url).await.expect("migrations apply"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_sets_make_the_same_schema() {
    let Some(postgres) = migrated(Backend::Postgres).await else {
        return;
    };
    let sqlite = migrated(Backend::Sqlite).await.unwrap();
    let (sqlite, postgres) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    // Both readers see every kind of thing they compare.
    for schema in [&sqlite, &postgres] {
        let tables = schema.values();
        assert!(schema.len() > 10, "tables found: {:?}", schema.keys());
        assert!(tables.clone().any(|t| t.primary_key.len() == 2));
        assert!(tables.clone().any(|t| !t.unique.is_empty()));
        assert!(tables
            .clone()
            .any(|t| t.indexes.values().any(|i| i.partial)));
        assert!(tables.clone().any(|t| !t.foreign_keys.is_empty()));
        assert!(tables
            .clone()
            .any(|t| t.checks.iter().any(|c| !c.literals.is_empty())));
        assert!(tables
            .clone()
            .any(|t| t.columns.values().any(|not_null| !not_null)));
    }
    let found = differences(&sqlite, &postgres);
    assert!(found.is_empty(), "schemas differ:\n{}", found.join("\n"));
}

/// The comparison itself notices a column or an index that exists on one side only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_or_index_on_one_side_only_is_a_difference() {
    let db = migrated(Backend::Sqlite).await.unwrap();
    let before = sqlite_schema(&db).await;
    for statement in [
        "ALTER TABLE users ADD COLUMN nickname TEXT",
        "CREATE INDEX users_nickname ON users(nickname)",
        "CREATE TABLE extras (id INTEGER PRIMARY KEY, status TEXT CHECK (status IN ('on', 'off')))",
    ] {
        sqlx::query(statement).execute(&db.pool).await.unwrap();
    }
    let after = sqlite_schema(&db).await;
    let found = differences(&after, &before);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("table extras: only in SQLite"));
    assert!(found[1].starts_with("users.nickname:"));
    assert!(found[2].starts_with("users: index users_nickname"));
    assert_eq!(
        after["extras"].checks.iter().collect::<Vec<_>>(),
        vec![&Check {
            columns: vec!["status".to_owned()],
            literals: vec!["off".to_owned(), "on".to_owned()],
        }]
    );
}

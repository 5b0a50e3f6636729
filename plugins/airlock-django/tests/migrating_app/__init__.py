"""A test app whose data migration enqueues, as data migrations that call a model's save() do."""

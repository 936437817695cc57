"""The page's routes; ``routes.ROUTES`` lists them."""

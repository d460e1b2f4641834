"""Order taking with a payment window, payment outcomes and the order lifecycle."""

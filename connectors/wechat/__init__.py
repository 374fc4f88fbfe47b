"""The WeChat Official Account connector: webhook, passive replies, customer-service pushes."""

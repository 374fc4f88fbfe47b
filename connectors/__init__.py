"""Platform connectors: each turns its platform's updates into `Inbound` messages and renders
`Outbound` messages back. No dialog logic lives here."""

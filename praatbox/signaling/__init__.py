"""The signaling WebSockets: wire codec (`protocol`), socket plumbing (`transport`), sending
budgets (`rate`), and the handlers of browsers (`room_socket`) and relays (`relay_socket`)."""

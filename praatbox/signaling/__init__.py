"""The signaling WebSocket: wire codec (`protocol`) and the flask-sock handler (`socket`)."""

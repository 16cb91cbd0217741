"""Where room state lives (memory or Redis) and how decisions reach connected sockets."""

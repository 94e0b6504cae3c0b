"""Code that plugs into the Rasa server: NLU component, emergency policy, tracker store, channels."""

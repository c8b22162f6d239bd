"""Source plug-ins: each turns one kind of input into Items and never touches the store."""

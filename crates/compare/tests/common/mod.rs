pub(crate) mod rooms;

//! Delta tables on local storage, read for Delta Sharing recipients: the transaction log
//! (`log`, `checkpoint`), which files a share exposes (`filter`), the protocol's answers
//! (`sharing`) and the pre-signed URLs of their files (`presign`). Nothing here knows HTTP or
//! SQL; the HTTP layer calls it off the request thread.

pub mod checkpoint;
pub mod filter;
pub mod log;
pub mod presign;
pub mod sharing;

//! One rule for the failures of every AWS SDK call: a code the service names
//! transient, or no answer at all, is worth a retry (a 503); any other code,
//! or a request that could not be built, is not.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// An AWS service as its callers' errors see it.
#[derive(Debug, Clone, Copy)]
pub struct AwsService {
    /// The service's name in messages ("no answer from STS").
    pub name: &'static str,
    /// The error codes that mean "retry later": throttling and outages.
    pub transient: &'static [&'static str],
}

impl AwsService {
    /// Sorts a failed call into `unavailable` (transient) or `refused`, each
    /// given the service's error code or a short reason.
    pub fn sort<E, R, T>(&self, error: &SdkError<E, R>, unavailable: fn(String) -> T, refused: fn(String) -> T) -> T
    where
        E: ProvideErrorMetadata,
    {
        match error {
            SdkError::ServiceError(answer) => {
                let code = answer.err().code().unwrap_or("Unknown");
                if self.transient.contains(&code) { unavailable(code.to_owned()) } else { refused(code.to_owned()) }
            }
            SdkError::ConstructionFailure(_) => refused(format!("the {} request could not be built", self.name)),
            _ => unavailable(format!("no answer from {}", self.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    const SERVICE: AwsService = AwsService { name: "Example", transient: &["ThrottlingException"] };

    #[derive(Debug, PartialEq)]
    enum Sorted {
        Unavailable(String),
        Refused(String),
    }

    fn answered(code: &str) -> SdkError<GetItemError, ()> {
        SdkError::service_error(GetItemError::generic(ErrorMetadata::builder().code(code).build()), ())
    }

    fn sort(error: &SdkError<GetItemError, ()>) -> Sorted {
        SERVICE.sort(error, Sorted::Unavailable, Sorted::Refused)
    }

    #[test]
    fn transient_codes_and_silence_are_unavailable_the_rest_refused() {
        assert_eq!(sort(&answered("ThrottlingException")), Sorted::Unavailable("ThrottlingException".into()));
        assert_eq!(sort(&answered("AccessDeniedException")), Sorted::Refused("AccessDeniedException".into()));
        assert_eq!(sort(&SdkError::timeout_error("slow")), Sorted::Unavailable("no answer from Example".into()));
        assert_eq!(
            sort(&SdkError::construction_failure("bad")),
            Sorted::Refused("the Example request could not be built".into())
        );
    }
}

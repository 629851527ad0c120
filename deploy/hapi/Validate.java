// Validates FHIR R4 JSON files with the HAPI FHIR instance validator, offline, in one JVM start.
// Usage: java -cp 'libs/*:classes' Validate FILE...   Prints one line per file:
//   <file>\tOK   or   <file>\tERROR\t<severity> <location>: <message> (one line per issue)
// Exit status: 0 when every file validates without errors, 1 otherwise.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

public class Validate {
  public static void main(String[] args) throws Exception {
    FhirContext ctx = FhirContext.forR4();
    ValidationSupportChain chain = new ValidationSupportChain(
        new DefaultProfileValidationSupport(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new CommonCodeSystemsTerminologyService(ctx),
        new SnapshotGeneratingValidationSupport(ctx));
    FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
    instanceValidator.setNoTerminologyChecks(false);
    FhirValidator validator = ctx.newValidator().registerValidatorModule(instanceValidator);
    boolean allOk = true;
    for (String file : args) {
      String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      ValidationResult result = validator.validateWithResult(text);
      StringBuilder errors = new StringBuilder();
      for (SingleValidationMessage m : result.getMessages()) {
        if (m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL) {
          errors.append('\t').append(m.getSeverity()).append(' ').append(m.getLocationString())
              .append(": ").append(m.getMessage().replace('\n', ' '));
        }
      }
      if (errors.length() == 0) {
        System.out.println(file + "\tOK");
      } else {
        allOk = false;
        System.out.println(file + "\tERROR" + errors);
      }
    }
    System.exit(allOk ? 0 : 1);
  }
}
